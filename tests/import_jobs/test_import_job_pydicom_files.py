"""Import every file pydicom ships over HTTP: outputs add up, frames decode to pixel_array, CRCs match."""

from __future__ import annotations

import io
import os
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from import_job_helpers import (
    INPUT_BUCKET,
    active_datastore,
    instances_of,
    metadata,
    read_output,
    start,
    upload,
    wait_for_job,
)
from openjpeg import decode as openjpeg_decode
from pydicom.data import get_testdata_files

from ahi.emulator.demo.phantoms import split_series

DATA_ROOT = Path(pydicom.data.__file__).parent


def bundled_files() -> list[tuple[str, bytes]]:
    """Every bundled file, keyed by its path under pydicom's data folder (nested folders kept)."""
    return [
        (str(Path(path).relative_to(DATA_ROOT)), Path(path).read_bytes())
        for path in sorted(get_testdata_files())
        if os.path.isfile(path)
    ]


def pixel_frames(data: bytes) -> tuple[str, np.ndarray | None]:
    """(SOP Instance UID, pydicom's pixel_array as frames) of a file; None when pydicom cannot decode it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = pydicom.dcmread(io.BytesIO(data))
        try:
            pixels = dataset.pixel_array
        except Exception:  # noqa: BLE001
            return str(dataset.SOPInstanceUID), None
    if int(dataset.get("NumberOfFrames") or 1) == 1:
        pixels = pixels[None]
    return str(dataset.SOPInstanceUID), pixels.astype(pixels.dtype.newbyteorder("<"))


def test_pydicom_files_import_over_http(mi: Any, s3: Any) -> None:
    files = bundled_files()
    upload(s3, files + split_series(size=32), prefix="in/")
    datastore_id = active_datastore(mi)
    job_id = start(mi, datastore_id)
    properties = wait_for_job(mi, datastore_id, job_id, timeout=120)
    assert properties["jobStatus"] == "COMPLETED"
    output = read_output(s3, properties)
    summary = output.manifest

    keys = {f"in/{name}" for name, _ in files} | {f"in/{name}" for name, _ in split_series(size=32)}
    reported = [line["inputFile"] for line in output.success + output.failure]
    assert sorted(reported) == sorted(keys), "every scanned file is reported exactly once"
    assert summary["numberOfScannedFiles"] == len(keys)
    assert summary["numberOfImportedFiles"] == len(output.success)
    assert summary["numberOfFilesWithCustomerError"] + summary["numberOfFilesWithServerError"] == len(output.failure)
    assert summary["numberOfFilesWithServerError"] == 0
    assert summary["numberOfGeneratedImageSets"] == len(summary["imageSetsSummary"])
    assert sum(entry["numberOfMatchedSOPInstances"] for entry in summary["imageSetsSummary"]) == len(output.success)
    assert {line["inputFile"] for line in output.warning} <= {line["inputFile"] for line in output.success}
    for line in output.failure:
        assert line["exception"]["exceptionType"] == "ValidationException" and line["exception"]["message"]

    documents: dict[str, dict[str, Any]] = {}
    by_name = dict(files)
    checked_frames = 0
    for line in output.success:
        name = line["inputFile"].removeprefix("in/")
        if name not in by_name:
            continue
        image_set_id = line["importResponse"]["imageSetId"]
        if image_set_id not in documents:
            documents[image_set_id] = metadata(mi, datastore_id, image_set_id)
        sop_uid, expected = pixel_frames(by_name[name])
        instance = instances_of(documents[image_set_id])[sop_uid]
        if expected is None:
            continue
        assert len(instance["ImageFrames"]) == len(expected)
        for entry, pixels in zip(instance["ImageFrames"], expected, strict=True):
            response = mi.get_image_frame(
                datastoreId=datastore_id, imageSetId=image_set_id, imageFrameInformation={"imageFrameId": entry["ID"]}
            )
            body = response["imageFrameBlob"].read()
            assert len(body) == entry["FrameSizeInBytes"]
            if instance["StoredTransferSyntaxUID"] == "1.2.840.10008.1.2.4.50":
                # JPEG decoders differ by a few levels; tests/imports/test_stored_syntaxes.py checks these frames.
                assert response["contentType"] == "image/jpeg"
                continue
            decoded = None
            if response["contentType"] == "image/jph" and pixels.dtype.itemsize < 4:
                decoded = openjpeg_decode(io.BytesIO(body), 2)  # JP2 mode, as AWS's Python sample reads frames
            if decoded is not None:  # OpenJPEG (AWS's Python sample) cannot read 32-bit components
                np.testing.assert_array_equal(decoded, pixels)
                assert zlib.crc32(decoded) == entry["PixelDataChecksumFromBaseToFullResolution"][-1]["Checksum"]
            assert (
                zlib.crc32(np.ascontiguousarray(pixels))
                == entry["PixelDataChecksumFromBaseToFullResolution"][-1]["Checksum"]
            )
            checked_frames += 1
    assert checked_frames > 100

    split = [
        entry
        for entry in summary["imageSetsSummary"]
        if any(
            line["inputFile"].startswith("in/ct/split") and line["importResponse"]["imageSetId"] == entry["imageSetId"]
            for line in output.success
        )
    ]
    assert [entry["numberOfMatchedSOPInstances"] for entry in split] == [2, 2], "PatientName splits the series"
    assert INPUT_BUCKET in properties["inputS3Uri"]
