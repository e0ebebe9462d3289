"""pydicom's corpus round trip over DICOMweb: STOW each file, QIDO finds it, WADO returns a file pydicom reads,
pixel-exact to the source for lossless inputs.

The files are stored in a few multipart requests sent at once (one per round: no request repeats a SOP
Instance UID, as pydicom ships up to nine files sharing one), and every search and retrieve runs in the
module's fixture on a few threads; each test then checks one file's trip.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np
import pydicom
import pytest
import requests
from pydicom_corpus import DATA_ROOT, FILES, corpus_dataset, rounds
from world import DicomwebWorld, dicomweb_world

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
#: Source syntaxes whose pixel data is lossless by definition (JPEG 2000 .91 and JPEG-LS .81 may be lossy).
LOSSLESS = {
    "1.2.840.10008.1.2", EXPLICIT_VR_LITTLE_ENDIAN, "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
}
BOUNDARY = "round-trip-boundary"
THREADS = 4


@dataclass
class Trip:
    """One corpus file's way through the endpoint."""

    name: str
    sop_uid: str
    retrieve_url: str | None = None
    found: bool = False
    #: Whether the source's pixel data is lossless (then the instance is asked for in Explicit VR Little Endian).
    lossless: bool = False
    #: The instance dicomweb-client's retrieve_instance returned.
    retrieved: pydicom.Dataset | None = field(default=None, repr=False)
    problems: list[str] = field(default_factory=list)


def _store_round(world: DicomwebWorld, names: list[str]) -> dict[str, str]:
    """One multipart STOW of `names`; the retrieve URL of each stored SOP Instance UID."""
    body = b"".join(
        f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + (DATA_ROOT / name).read_bytes() + b"\r\n"
        for name in names
    ) + f"--{BOUNDARY}--\r\n".encode()
    content_type = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'
    with world.session() as session:
        response = session.post(f"{world.base_url}/studies", data=body, headers={"Content-Type": content_type}, timeout=300)
    assert response.status_code in (200, 409), response.text
    result = response.json()
    failed = result.get("00081198", {}).get("Value", [])
    stored = result.get("00081199", {}).get("Value", [])
    assert len(failed) + len(stored) == len(names), "every part is either stored or listed as failed"
    assert (response.status_code == 409) == bool(failed)
    return {
        item["00081155"]["Value"][0]: item["00081190"]["Value"][0] for item in result.get("00081199", {}).get("Value", [])
    }


def _travel(world: DicomwebWorld, trip: Trip) -> Trip:
    """QIDO for the stored instance, then WADO it back; an error answer becomes one of the trip's problems."""
    try:
        _search_and_retrieve(world, trip)
    except requests.HTTPError as error:
        trip.problems.append(f"{error.request.method if error.request else ''} answered {error}")
    return trip


def _search_and_retrieve(world: DicomwebWorld, trip: Trip) -> None:
    """dicomweb-client as a viewer uses it: Explicit VR Little Endian for lossless sources, else as stored."""
    assert trip.retrieve_url is not None
    url = urlsplit(trip.retrieve_url)
    _, _, study, _, series, _, sop = url.path.split("/")[-7:]
    image_set = dict(pair.split("=", 1) for pair in url.query.split("&") if pair).get("imageSetId")
    extra = {"imageSetId": image_set} if image_set else {}
    client = world.dicomweb()
    client.set_http_retry_params(retry=False)
    found = client.search_for_instances(
        study_instance_uid=study, series_instance_uid=series, search_filters={"SOPInstanceUID": sop, **extra}
    )
    trip.found = [item["00080018"]["Value"][0] for item in found] == [sop]
    source = corpus_dataset(trip.name)
    trip.lossless = (
        source is not None and str(source.file_meta.TransferSyntaxUID) in LOSSLESS and "PixelData" in source
    )
    syntax = EXPLICIT_VR_LITTLE_ENDIAN if trip.lossless else "*"
    trip.retrieved = client.retrieve_instance(
        study, series, sop, media_types=(("application/dicom", syntax),), additional_params=extra or None
    )


@pytest.fixture(scope="module")
def trips(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Trip]]:
    with dicomweb_world(tmp_path_factory.mktemp("round-trip")) as world:
        batches = rounds()
        with ThreadPoolExecutor(THREADS) as pool:
            stored = list(pool.map(lambda names: _store_round(world, names), batches))
            trips: dict[str, Trip] = {}
            for names, urls in zip(batches, stored, strict=True):
                for name in names:
                    dataset = corpus_dataset(name)
                    uid = str(dataset.get("SOPInstanceUID", "")) if dataset is not None else ""
                    trips[name] = Trip(name, uid, urls.get(uid))
            travelling = [trip for trip in trips.values() if trip.retrieve_url is not None]
            list(pool.map(lambda trip: _travel(world, trip), travelling))
        yield trips


def _pixels(dataset: pydicom.Dataset) -> np.ndarray:
    """pydicom's decode as frames."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pixels = dataset.pixel_array
    return pixels[None] if int(dataset.get("NumberOfFrames") or 1) == 1 else pixels


def test_most_of_the_corpus_is_stored(trips: dict[str, Trip]) -> None:
    """The store takes what the import takes: most of the corpus (the rest are not P10, truncated, unsupported...)."""
    stored = [trip for trip in trips.values() if trip.retrieve_url is not None]
    assert len(stored) >= len(trips) // 2, f"only {len(stored)} of {len(trips)} stored"


@pytest.mark.parametrize("name", FILES)
def test_file_round_trips(trips: dict[str, Trip], name: str) -> None:
    trip = trips[name]
    if trip.retrieve_url is None:
        pytest.skip("not stored (its FailedSOPSequence item says why; the import refuses it too)")
    assert not trip.problems, trip.problems
    assert trip.found, "QIDO-RS did not find the stored instance"
    source = corpus_dataset(name)
    assert source is not None and trip.retrieved is not None
    retrieved = trip.retrieved
    assert (retrieved.SOPInstanceUID, retrieved.StudyInstanceUID) == (trip.sop_uid, source.StudyInstanceUID)
    if not trip.lossless:
        return
    assert retrieved.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = _pixels(source)
        except Exception:  # noqa: BLE001 - pydicom cannot decode the source itself: nothing to compare against
            return
    actual = _pixels(retrieved)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected.astype(expected.dtype.newbyteorder("=")))
