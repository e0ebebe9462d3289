"""Fixtures for the import-job service tests: hand-made job folders in moto S3 on the local endpoint."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.server import LocalEndpoint
from services.imports import JobFolder
from services.s3_location import S3Uri

OUTPUT_BUCKET = "triage-output"
INPUT_BUCKET = "triage-input"
DATASTORE_ID = "d" * 32
JOB_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

#: `jobProperties` as GetDICOMImportJob returns them for the hand-made job (outputS3Uri is the job folder).
JOB_PROPERTIES = {
    "jobId": JOB_ID,
    "jobName": "nightly-ct",
    "jobStatus": "COMPLETED",
    "datastoreId": DATASTORE_ID,
    "dataAccessRoleArn": "arn:aws:iam::123456789012:role/ImportJobDataAccessRole",
    "inputS3Uri": f"s3://{INPUT_BUCKET}/dicom/batch-7/",
    "outputS3Uri": f"s3://{OUTPUT_BUCKET}/job_output/{DATASTORE_ID}-DicomImport-{JOB_ID}/",
}
FOLDER = JobFolder(S3Uri.parse(JOB_PROPERTIES["outputS3Uri"]))


def failure_line(input_file: str, message: str, exception_type: str = "ValidationException", **extra: Any) -> str:
    return json.dumps(
        {"inputFile": input_file, "exception": {"exceptionType": exception_type, "message": message}, **extra}
    )


def manifest_document(**overrides: Any) -> dict[str, Any]:
    folder = JOB_PROPERTIES["outputS3Uri"]
    summary = {
        "jobId": JOB_ID,
        "datastoreId": DATASTORE_ID,
        "inputS3Uri": JOB_PROPERTIES["inputS3Uri"],
        "outputS3Uri": folder,
        "successOutputS3Uri": folder + "SUCCESS/",
        "failureOutputS3Uri": folder + "FAILURE/",
        "warningsOutputS3Uri": folder + "WARNING/",
        "numberOfScannedFiles": 4,
        "numberOfImportedFiles": 2,
        "numberOfFilesWithCustomerError": 2,
        "numberOfFilesWithServerError": 0,
        "numberOfGeneratedImageSets": 1,
        "imageSetsSummary": [{"imageSetId": "f" * 32, "imageSetVersion": 1, "isPrimary": True,
                              "numberOfMatchedSOPInstances": 2}],
    }  # fmt: skip
    summary.update(overrides)
    return {"jobSummary": summary}


PutFolder = Callable[..., JobFolder]


@pytest.fixture
def buckets(s3: Any) -> Any:
    """The input and output buckets, created empty; returns the S3 client."""
    s3.create_bucket(Bucket=OUTPUT_BUCKET)
    s3.create_bucket(Bucket=INPUT_BUCKET)
    return s3


@pytest.fixture
def put_folder(buckets: Any) -> PutFolder:
    """Write a job folder: `manifest` (dict, bytes or None) and each ndjson file as text (None: not written)."""

    def put(
        manifest: dict[str, Any] | bytes | None = None,
        success: str | None = None,
        failure: str | None = None,
        warning: str | None = None,
    ) -> JobFolder:
        files = {
            "job-output-manifest.json": json.dumps(manifest).encode() if isinstance(manifest, dict) else manifest,
            "SUCCESS/success.ndjson": success.encode() if success is not None else None,
            "FAILURE/failure.ndjson": failure.encode() if failure is not None else None,
            "WARNING/warning.ndjson": warning.encode() if warning is not None else None,
        }
        for name, body in files.items():
            if body is not None:
                buckets.put_object(Bucket=OUTPUT_BUCKET, Key=FOLDER.uri.key + name, Body=body)
        return FOLDER

    return put


def _reset_auth(endpoint: LocalEndpoint, count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint.url}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture
def enforce_iam(endpoint: LocalEndpoint, make_client: Callable[..., Any]) -> Iterator[Callable[[dict], Any]]:
    """Turn on moto's IAM enforcement (its server-mode switch); yields a factory of S3 clients for a user
    holding the given policy. Enforcement is switched off again afterwards."""
    iam = make_client("iam")
    made: list[int] = []

    def client_for(policy: dict[str, Any]) -> Any:
        name = f"triage-user-{len(made)}"
        made.append(1)
        _reset_auth(endpoint, "inf")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="triage", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        _reset_auth(endpoint, "0")
        return make_client("s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])

    try:
        yield client_for
    finally:
        _reset_auth(endpoint, "inf")
