"""Shared by the import benches: boto3 clients on a local endpoint and one import job timed from start to end.

A helper module, not a bench: the scripts next to it import it (running `python bench/<name>.py` puts this folder
on the path).
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
INPUT_BUCKET = "bench-input"
OUTPUT_BUCKET = "bench-output"


def clients(endpoint_url: str) -> tuple[Any, Any]:
    """(medical-imaging, s3) clients on the endpoint: dummy credentials, no host prefix, no retries."""
    options: dict[str, Any] = dict(
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
    )
    return boto3.client("medical-imaging", **options), boto3.client("s3", **options)


def timed_import(mi: Any, s3: Any, files: list[tuple[str, bytes]]) -> tuple[float, dict[str, Any]]:
    """Upload `files` (key, bytes), import them into a new ACTIVE data store: (seconds from StartDICOMImportJob
    to the job's end, the ended job's properties)."""
    s3.create_bucket(Bucket=INPUT_BUCKET)
    s3.create_bucket(Bucket=OUTPUT_BUCKET)
    for key, data in files:
        s3.put_object(Bucket=INPUT_BUCKET, Key=f"in/{key}", Body=data)
    datastore_id = mi.create_datastore(datastoreName="bench")["datastoreId"]
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        time.sleep(0.01)
    started = time.perf_counter()
    job_id = mi.start_dicom_import_job(
        datastoreId=datastore_id,
        dataAccessRoleArn=ROLE,
        inputS3Uri=f"s3://{INPUT_BUCKET}/in/",
        outputS3Uri=f"s3://{OUTPUT_BUCKET}/out/",
    )["jobId"]
    while True:
        properties = mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]
        if properties["jobStatus"] in ("COMPLETED", "FAILED"):
            return time.perf_counter() - started, dict(properties)
        time.sleep(0.02)
