"""The AWS CLI drives an import and reads the results: start, get, metadata to a file, frame to a file."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from import_job_helpers import INPUT_BUCKET, OUTPUT_BUCKET, ROLE, active_datastore, instances_of, read_output, upload
from openjpeg import decode as openjpeg_decode

from ahi.emulator.demo.phantoms import ct_series

pytestmark = pytest.mark.awscli

AWS = Path(sys.executable).with_name("aws")


def aws(*args: str) -> Any:
    done = subprocess.run(
        [str(AWS), "medical-imaging", *args, "--output", "json"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_cli_import_metadata_and_frame(aws_env: dict[str, str], mi: Any, s3: Any, tmp_path: Path) -> None:
    files = ct_series(2, 64)
    upload(s3, files)
    datastore_id = active_datastore(mi)
    started = aws(
        "start-dicom-import-job",
        "--job-name",
        "cli-import",
        "--datastore-id",
        datastore_id,
        "--data-access-role-arn",
        ROLE,
        "--input-s3-uri",
        f"s3://{INPUT_BUCKET}/in/",
        "--output-s3-uri",
        f"s3://{OUTPUT_BUCKET}/out/",
    )
    assert started["jobStatus"] == "SUBMITTED" and started["datastoreId"] == datastore_id
    deadline = time.monotonic() + 60
    while True:
        job = aws("get-dicom-import-job", "--datastore-id", datastore_id, "--job-id", started["jobId"])["jobProperties"]
        if job["jobStatus"] in ("COMPLETED", "FAILED"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job["jobStatus"] == "COMPLETED"
    assert job["outputS3Uri"].endswith(f"/out/{datastore_id}-DicomImport-{started['jobId']}/")
    image_set_id = read_output(s3, job).manifest["imageSetsSummary"][0]["imageSetId"]

    metadata_file = tmp_path / "studymetadata.json.gz"
    printed = aws(
        "get-image-set-metadata", "--datastore-id", datastore_id, "--image-set-id", image_set_id, str(metadata_file)
    )
    assert printed == {"contentType": "application/json", "contentEncoding": "gzip"}
    document = json.loads(gzip.decompress(metadata_file.read_bytes()))
    assert document["ImageSetID"] == image_set_id

    source = pydicom.dcmread(io.BytesIO(files[0][1]))
    entry = instances_of(document)[str(source.SOPInstanceUID)]["ImageFrames"][0]
    frame_file = tmp_path / "imageframe.jph"
    aws(
        "get-image-frame",
        "--datastore-id",
        datastore_id,
        "--image-set-id",
        image_set_id,
        "--image-frame-information",
        f"imageFrameId={entry['ID']}",
        str(frame_file),
    )
    decoded = openjpeg_decode(frame_file, 2)
    np.testing.assert_array_equal(decoded, source.pixel_array)
    assert zlib.crc32(decoded) == entry["PixelDataChecksumFromBaseToFullResolution"][-1]["Checksum"]
