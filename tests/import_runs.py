"""One StartDICOMImportJob run to COMPLETED over HTTP, and what its output folder says (shared across test folders)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
INPUT_BUCKET = "imageset-writes-input"
OUTPUT_BUCKET = "imageset-writes-output"


@dataclass(frozen=True)
class JobOutputs:
    """What one import job wrote to its output folder."""

    job_id: str
    summaries: list[dict[str, Any]]
    success: list[dict[str, Any]]

    @property
    def image_set_ids(self) -> list[str]:
        return [summary["imageSetId"] for summary in self.summaries]

    def only(self) -> dict[str, Any]:
        (summary,) = self.summaries
        return summary


def run_import(
    mi: Any,
    s3: Any,
    datastore_id: str,
    files: Iterable[tuple[str, bytes]],
    prefix: str,
    *,
    buckets: tuple[str, str] = (INPUT_BUCKET, OUTPUT_BUCKET),
    timeout: float = 60.0,
) -> JobOutputs:
    """Upload `files` below `prefix/` of the input bucket (both buckets made if missing), run one import job to
    COMPLETED and read its manifest and success.ndjson."""
    existing = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    for bucket in buckets:
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
    input_bucket, output_bucket = buckets
    for name, data in files:
        s3.put_object(Bucket=input_bucket, Key=f"{prefix}/{name}", Body=data)
    job_id = mi.start_dicom_import_job(
        datastoreId=datastore_id,
        dataAccessRoleArn=ROLE,
        inputS3Uri=f"s3://{input_bucket}/{prefix}/",
        outputS3Uri=f"s3://{output_bucket}/{prefix}/",
    )["jobId"]
    deadline = time.monotonic() + timeout
    while (job := mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"])["jobStatus"] != "COMPLETED":
        assert job["jobStatus"] != "FAILED", job
        assert time.monotonic() < deadline, "import job never completed"
        time.sleep(0.05)
    bucket, _, folder = job["outputS3Uri"].removeprefix("s3://").partition("/")

    def read(key: str) -> bytes:
        return bytes(s3.get_object(Bucket=bucket, Key=folder + key)["Body"].read())

    manifest = json.loads(read("job-output-manifest.json"))["jobSummary"]
    success = [json.loads(line) for line in read("SUCCESS/success.ndjson").splitlines()]
    return JobOutputs(job_id, manifest["imageSetsSummary"], success)
