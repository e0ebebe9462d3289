"""pydicom's corpus imported over HTTP: stored as the guide's table says, served with the right content type,
pixel-exact against pydicom's decode and checksum-true through OpenJPEG (docs/stored-syntaxes.md).

One endpoint and two data stores (HTJ2K, the default, and JPEG_2000_LOSSLESS) are shared by the module; each
data store imports the whole corpus in one job, and every test reads what those jobs stored.
"""

from __future__ import annotations

import gzip
import json
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import imagecodecs
import numpy as np
import openjpeg
import pydicom
import pytest
from botocore.config import Config
from import_runs import run_import
from local_endpoints import quick_config, running, until
from pydicom_corpus import DATA_ROOT, FILES, corpus_dataset, rounds
from raw_http import ACCESS_KEY, REGION, SECRET_KEY


HTJ2K_RPCL = "1.2.840.10008.1.2.4.202"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
KEPT = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203"}
CONTENT_TYPES = {
    HTJ2K_RPCL: "image/jph",
    J2K_LOSSLESS: "image/j2c",
    "1.2.840.10008.1.2.4.91": "image/j2c",
    "1.2.840.10008.1.2.4.203": "image/jphc",
    "1.2.840.10008.1.2.4.50": "image/jpeg",
    "1.2.840.10008.1.2.1": "application/octet-stream",
}


@dataclass
class Served:
    """One imported file as a client meets it: its instance metadata and each frame's content type and body."""

    instance: dict[str, Any]
    frames: list[tuple[str, bytes]]


#: Per data store format, per corpus file that imported.
Corpus = dict[str, dict[str, Served]]


def _import_round(mi: Any, s3: Any, datastore_id: str, number: int, names: list[str]) -> dict[str, Served]:
    """One job over `names`; what each imported file became, read before the next job can add versions."""
    prefix = f"r{number}-{datastore_id[:6]}"
    files = ((name, (DATA_ROOT / name).read_bytes()) for name in names)
    job = run_import(mi, s3, datastore_id, files, prefix, buckets=("corpus-input", "corpus-output"), timeout=300)
    served: dict[str, Served] = {}
    for line in job.success:
        name = line["inputFile"].removeprefix(f"{prefix}/")
        image_set_id = line["importResponse"]["imageSetId"]
        blob = mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetMetadataBlob"]
        document = json.loads(gzip.decompress(blob.read()))
        uid = str(corpus_dataset(name).SOPInstanceUID)  # type: ignore[union-attr]
        (instance,) = [
            series["Instances"][uid] for series in document["Study"]["Series"].values() if uid in series["Instances"]
        ]
        frames = []
        for entry in instance["ImageFrames"]:
            response = mi.get_image_frame(
                datastoreId=datastore_id, imageSetId=image_set_id, imageFrameInformation={"imageFrameId": entry["ID"]}
            )
            frames.append((response["contentType"], response["imageFrameBlob"].read()))
        served[name] = Served(instance, frames)
    return served


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    with running(quick_config(tmp_path_factory.mktemp("stored-syntaxes") / "state")) as server:
        options = {
            "region_name": REGION,
            "endpoint_url": server.url,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            "config": Config(inject_host_prefix=False, retries={"mode": "standard", "total_max_attempts": 1}),
        }
        session = boto3.session.Session()
        mi, s3 = session.client("medical-imaging", **options), session.client("s3", **options)
        corpus: Corpus = {}
        for lossless_format in ("HTJ2K", "JPEG_2000_LOSSLESS"):
            datastore_id = mi.create_datastore(datastoreName=lossless_format.lower(), losslessStorageFormat=lossless_format)[
                "datastoreId"
            ]
            until(
                lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE",
                "the data store ACTIVE",
            )
            corpus[lossless_format] = {}
            for number, names in enumerate(rounds()):
                corpus[lossless_format].update(_import_round(mi, s3, datastore_id, number, names))
        yield corpus


def _reference(dataset: pydicom.Dataset) -> np.ndarray | None:
    """pydicom's decode as frames; JPEG Baseline through its Pillow plugin (libjpeg-turbo)."""
    syntax = dataset.file_meta.TransferSyntaxUID
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pixels = pydicom.pixels.pixel_array(dataset, decoding_plugin="pillow" if syntax.endswith(".4.50") else "")
        except Exception:  # noqa: BLE001 - files pydicom cannot decode are checked by the import's failure line
            return None
    return pixels[None] if int(dataset.get("NumberOfFrames") or 1) == 1 else pixels


def expected_syntax(dataset: pydicom.Dataset, lossless_format: str) -> str:
    """The guide's table, restated: which syntax the frames of this file are stored in."""
    source = str(dataset.file_meta.TransferSyntaxUID)
    if source in KEPT:
        return source
    binary_segmentation = dataset.get("SOPClassUID") == "1.2.840.10008.5.1.4.1.1.66.4" and dataset.BitsAllocated == 1
    if source == "1.2.840.10008.1.2.1" and binary_segmentation:
        return source
    if lossless_format == "JPEG_2000_LOSSLESS" and dataset.get("BitsAllocated") != 32:
        return J2K_LOSSLESS
    return HTJ2K_RPCL


def client_decode(body: bytes, content_type: str, dicom: dict[str, Any]) -> np.ndarray:
    """What a client does with each content type; OpenJPEG for the whole JPEG 2000 family."""
    if content_type == "image/jpeg":
        return imagecodecs.jpeg8_decode(body, colorspace="RGB" if dicom["PhotometricInterpretation"] == "RGB" else None)
    if content_type == "application/octet-stream":
        count = dicom["Rows"] * dicom["Columns"]
        bits = np.unpackbits(np.frombuffer(body, np.uint8), bitorder="little", count=count)
        return bits.reshape(dicom["Rows"], dicom["Columns"])
    if dicom["BitsAllocated"] == 32:
        with pytest.raises(RuntimeError):  # OpenJPEG reads at most 31-bit components (docs/stored-syntaxes.md)
            openjpeg.decode(body)
        return imagecodecs.htj2k_decode(body)
    return openjpeg.decode(body)


@pytest.mark.parametrize("lossless_format", ["HTJ2K", "JPEG_2000_LOSSLESS"])
@pytest.mark.parametrize("name", FILES)
def test_file_is_stored_served_and_pixel_exact(corpus: Corpus, name: str, lossless_format: str) -> None:
    served = corpus[lossless_format].get(name)
    if served is None:
        pytest.skip("not imported (a failure line says why; tests/dicom checks each reason)")
    dataset = corpus_dataset(name)
    assert dataset is not None
    instance = served.instance
    stored = expected_syntax(dataset, lossless_format)
    assert instance["StoredTransferSyntaxUID"] == stored
    dicom = instance["DICOM"]
    if stored not in KEPT and dicom.get("SamplesPerPixel") == 3:
        assert (dicom["PhotometricInterpretation"], dicom.get("PlanarConfiguration", 0)) == ("RGB", 0)
    reference = _reference(dataset) if served.frames else None
    if reference is None:
        return
    assert len(served.frames) == len(reference)
    encoded = (
        list(pydicom.encaps.generate_frames(dataset.PixelData, number_of_frames=len(reference)))
        if stored in KEPT
        else [None] * len(reference)
    )
    for entry, (content_type, body), expected, original in zip(
        instance["ImageFrames"], served.frames, reference, encoded, strict=True
    ):
        assert content_type == CONTENT_TYPES[stored]
        assert len(body) == entry["FrameSizeInBytes"]
        if original is not None:  # as the file holds them, without an odd fragment's NULL pad
            assert body == (original[:-1] if original.endswith(b"\xff\xd9\x00") else original)
        decoded = client_decode(body, content_type, dicom)
        little = expected.astype(expected.dtype.newbyteorder("<"))
        assert decoded.dtype == little.dtype and decoded.shape == little.shape
        np.testing.assert_array_equal(decoded, little)
        checksum = entry["PixelDataChecksumFromBaseToFullResolution"][-1]
        assert checksum == {"Width": dicom["Columns"], "Height": dicom["Rows"], "Checksum": zlib.crc32(decoded)}


def test_the_corpus_covers_every_stored_form(corpus: Corpus) -> None:
    """The HTJ2K store holds four stored syntaxes from the corpus, the JPEG 2000 Lossless store five."""
    seen = {
        name: {served.instance["StoredTransferSyntaxUID"] for served in files.values() if served.frames}
        for name, files in corpus.items()
    }
    kept = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.1"}
    assert seen["HTJ2K"] == kept | {HTJ2K_RPCL}
    assert seen["JPEG_2000_LOSSLESS"] == kept | {HTJ2K_RPCL, J2K_LOSSLESS}
