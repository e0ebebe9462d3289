"""Import-job test support shared by the service tests (tests/imports) and the console tests (tests/tui): hand-made
job folders and real jobs on the local endpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ahi.services.imports import JobFolder
from ahi.services.s3_location import S3Uri

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


#: `put_folder(manifest, success, failure, warning)`: writes a job folder, returns it.
PutFolder = Callable[..., JobFolder]


# --- real jobs on the local endpoint ---------------------------------------------------------------

ROLE = JOB_PROPERTIES["dataAccessRoleArn"]


def active_datastore(mi: Any, name: str = "triage") -> str:
    """A new data store, once ACTIVE."""
    datastore_id = mi.create_datastore(datastoreName=name)["datastoreId"]
    deadline = time.monotonic() + 10
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "data store never became ACTIVE"
        time.sleep(0.02)
    return str(datastore_id)


def wait_for_job(mi: Any, datastore_id: str, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """GetDICOMImportJob until the job ends; its properties."""
    deadline = time.monotonic() + timeout
    while True:
        properties = mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]
        if properties["jobStatus"] in ("COMPLETED", "FAILED"):
            return dict(properties)
        assert time.monotonic() < deadline, f"job {job_id} still {properties['jobStatus']}"
        time.sleep(0.05)


def run_import(
    mi: Any,
    s3: Any,
    files: list[tuple[str, bytes]],
    *,
    datastore_id: str | None = None,
    input_uri: str = f"s3://{INPUT_BUCKET}/dicom/batch-7/",
    job_name: str = "nightly-ct",
) -> dict[str, Any]:
    """Upload `files` below `input_uri` (buckets must exist), import them, and return the ended job's properties."""
    bucket, _, prefix = input_uri.removeprefix("s3://").partition("/")
    for name, data in files:
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=data)
    datastore_id = datastore_id or active_datastore(mi)
    job_id = mi.start_dicom_import_job(
        jobName=job_name,
        datastoreId=datastore_id,
        dataAccessRoleArn=ROLE,
        inputS3Uri=input_uri,
        outputS3Uri=f"s3://{OUTPUT_BUCKET}/job_output/",
    )["jobId"]
    return wait_for_job(mi, datastore_id, job_id)


#: Files whose name (not folder) holds this fail as a server-side hiccup would: a retry of the same bytes can pass.
FLAKY_MARK = "flaky"


def make_flaky_files_fail(monkeypatch: Any) -> None:
    """In this process's endpoint, files named with FLAKY_MARK fail with an InternalServerException (a timed-out read)."""
    from ahi.emulator.dicom.failures import FileFailure
    from ahi.emulator.imports import runner

    original = runner.JobRunner._one_file  # noqa: SLF001

    def one_file(self: Any, job_id: str, bucket: str, item: Any, *args: Any, **kwargs: Any) -> Any:
        if FLAKY_MARK in item.key.rpartition("/")[2]:
            message = "The file could not be processed because of an internal error (TimeoutError: read timed out)."
            return runner.FileOutcome(item.key, failure=FileFailure(message, exception_type="InternalServerException", customer=False))
        return original(self, job_id, bucket, item, *args, **kwargs)

    monkeypatch.setattr(runner.JobRunner, "_one_file", one_file)
