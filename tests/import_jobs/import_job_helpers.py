"""Shared by the import-job tests: buckets with DICOM objects, an ACTIVE data store, a job run to its end."""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
INPUT_BUCKET = "dicom-input"
OUTPUT_BUCKET = "dicom-output"


def active_datastore(mi: Any) -> str:
    """A new data store, once ACTIVE."""
    datastore_id = mi.create_datastore(datastoreName="imports")["datastoreId"]
    deadline = time.monotonic() + 5
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "data store never became ACTIVE"
        time.sleep(0.02)
    return datastore_id


def upload(s3: Any, files: list[tuple[str, bytes]], prefix: str = "in/", bucket: str = INPUT_BUCKET) -> None:
    """Create both buckets (if needed) and put the files under `prefix`."""
    existing = {entry["Name"] for entry in s3.list_buckets()["Buckets"]}
    for name in (INPUT_BUCKET, OUTPUT_BUCKET):
        if name not in existing:
            s3.create_bucket(Bucket=name)
    for name, data in files:
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=data)


def start(mi: Any, datastore_id: str, *, input_uri: str = f"s3://{INPUT_BUCKET}/in/", **extra: Any) -> str:
    """StartDICOMImportJob; the job id."""
    response = mi.start_dicom_import_job(
        datastoreId=datastore_id,
        dataAccessRoleArn=ROLE,
        inputS3Uri=input_uri,
        outputS3Uri=f"s3://{OUTPUT_BUCKET}/out/",
        **extra,
    )
    assert response["jobStatus"] == "SUBMITTED"
    return str(response["jobId"])


def wait_for_job(mi: Any, datastore_id: str, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll GetDICOMImportJob until the job ends; its properties."""
    deadline = time.monotonic() + timeout
    while True:
        properties = mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]
        if properties["jobStatus"] in ("COMPLETED", "FAILED"):
            return properties
        assert time.monotonic() < deadline, f"job {job_id} still {properties['jobStatus']}"
        time.sleep(0.05)


@dataclass
class JobOutput:
    """The job folder as a client reads it."""

    manifest: dict[str, Any]
    success: list[dict[str, Any]]
    failure: list[dict[str, Any]]
    warning: list[dict[str, Any]]


def read_output(s3: Any, properties: dict[str, Any]) -> JobOutput:
    """Read the manifest and the three ndjson files the way AWS's Python sample does."""
    bucket, _, folder = properties["outputS3Uri"].removeprefix("s3://").partition("/")

    def body(key: str) -> bytes:
        return bytes(s3.get_object(Bucket=bucket, Key=folder + key)["Body"].read())

    def lines(key: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in body(key).decode().splitlines()]

    return JobOutput(
        manifest=json.loads(body("job-output-manifest.json"))["jobSummary"],
        success=lines("SUCCESS/success.ndjson"),
        failure=lines("FAILURE/failure.ndjson"),
        warning=lines("WARNING/warning.ndjson"),
    )


def metadata(mi: Any, datastore_id: str, image_set_id: str, **extra: Any) -> dict[str, Any]:
    """GetImageSetMetadata, gunzipped and parsed."""
    response = mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id, **extra)
    return json.loads(gzip.decompress(response["imageSetMetadataBlob"].read()))


def instances_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """SOP Instance UID -> instance block, across the document's series."""
    found: dict[str, dict[str, Any]] = {}
    for series in document["Study"]["Series"].values():
        found.update(series["Instances"])
    return found
