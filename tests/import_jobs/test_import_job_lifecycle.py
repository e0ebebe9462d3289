"""StartDICOMImportJob, GetDICOMImportJob, ListDICOMImportJobs: statuses, listing, job-level failures."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from import_job_helpers import (
    INPUT_BUCKET,
    OUTPUT_BUCKET,
    ROLE,
    active_datastore,
    read_output,
    start,
    upload,
    wait_for_job,
)

from ahi.emulator.demo.phantoms import broken_files, ct_series


def error_code(exc_info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc_info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_job_moves_on_from_submitted_within_a_second(mi: Any, s3: Any) -> None:
    upload(s3, ct_series(6, 64))
    datastore_id = active_datastore(mi)
    job_id = start(mi, datastore_id, jobName="first-ct")
    seen = set()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        status = mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"]
        seen.add(status)
        if status != "SUBMITTED":
            break
        time.sleep(0.02)
    assert status in ("IN_PROGRESS", "COMPLETED"), seen
    properties = wait_for_job(mi, datastore_id, job_id)
    assert properties["jobStatus"] == "COMPLETED"
    assert properties["jobName"] == "first-ct"
    assert properties["endedAt"] >= properties["submittedAt"]
    assert "message" not in properties
    assert properties["inputS3Uri"] == f"s3://{INPUT_BUCKET}/in/"
    assert properties["outputS3Uri"] == f"s3://{OUTPUT_BUCKET}/out/{datastore_id}-DicomImport-{job_id}/"
    assert properties["dataAccessRoleArn"] == ROLE


def test_list_is_newest_first_filtered_and_paged_without_s3_uris(mi: Any, s3: Any) -> None:
    upload(s3, ct_series(1, 32))
    datastore_id = active_datastore(mi)
    completed = [start(mi, datastore_id) for _ in range(3)]
    for job_id in completed:
        wait_for_job(mi, datastore_id, job_id)
    failed = start(mi, datastore_id, input_uri="s3://missing-input-bucket/in/")
    wait_for_job(mi, datastore_id, failed)

    summaries = mi.list_dicom_import_jobs(datastoreId=datastore_id)["jobSummaries"]
    assert [summary["jobId"] for summary in summaries] == [failed, *reversed(completed)]
    assert all("inputS3Uri" not in summary and "outputS3Uri" not in summary for summary in summaries)
    assert summaries[0]["jobName"] == failed, "a job without a name is named by its id"

    only_failed = mi.list_dicom_import_jobs(datastoreId=datastore_id, jobStatus="FAILED")["jobSummaries"]
    assert [summary["jobId"] for summary in only_failed] == [failed]
    assert "missing-input-bucket" in only_failed[0]["message"]

    pages = mi.get_paginator("list_dicom_import_jobs").paginate(
        datastoreId=datastore_id, PaginationConfig={"PageSize": 1}
    )
    paged = [summary["jobId"] for page in pages for summary in page["jobSummaries"]]
    assert paged == [failed, *reversed(completed)]


@pytest.mark.parametrize(
    ("input_uri", "output_bucket", "owner", "named"),
    [
        ("s3://no-such-input/in/", OUTPUT_BUCKET, None, "input bucket no-such-input"),
        (f"s3://{INPUT_BUCKET}/nothing-here/", OUTPUT_BUCKET, None, f"bucket {INPUT_BUCKET}"),
        (f"s3://{INPUT_BUCKET}/in/", "no-such-output", None, "output bucket no-such-output"),
        (f"s3://{INPUT_BUCKET}/in/", OUTPUT_BUCKET, "210987654321", f"input bucket {INPUT_BUCKET} is not owned by"),
    ],
    ids=["missing input bucket", "empty prefix", "missing output bucket", "wrong owner"],
)
def test_job_level_problems_fail_the_job_naming_the_bucket(
    mi: Any, s3: Any, input_uri: str, output_bucket: str, owner: str | None, named: str
) -> None:
    upload(s3, ct_series(1, 32))
    datastore_id = active_datastore(mi)
    extra: dict[str, Any] = {"inputOwnerAccountId": owner} if owner else {}
    job_id = mi.start_dicom_import_job(
        datastoreId=datastore_id,
        dataAccessRoleArn=ROLE,
        inputS3Uri=input_uri,
        outputS3Uri=f"s3://{output_bucket}/out/",
        **extra,
    )["jobId"]
    properties = wait_for_job(mi, datastore_id, job_id)
    assert properties["jobStatus"] == "FAILED"
    assert named in properties["message"]
    assert properties["endedAt"] >= properties["submittedAt"]


def test_matching_owner_account_imports(mi: Any, s3: Any) -> None:
    upload(s3, ct_series(1, 32))
    datastore_id = active_datastore(mi)
    job_id = start(mi, datastore_id, inputOwnerAccountId="123456789012")
    assert wait_for_job(mi, datastore_id, job_id)["jobStatus"] == "COMPLETED"


def test_completed_with_failed_files(mi: Any, s3: Any) -> None:
    upload(s3, ct_series(2, 32) + broken_files())
    datastore_id = active_datastore(mi)
    properties = wait_for_job(mi, datastore_id, start(mi, datastore_id))
    assert properties["jobStatus"] == "COMPLETED", "failed files do not fail the job"
    output = read_output(s3, properties)
    assert output.manifest["numberOfScannedFiles"] == 2 + len(broken_files())
    assert output.manifest["numberOfImportedFiles"] == 2
    assert output.manifest["numberOfFilesWithCustomerError"] == len(broken_files()) == len(output.failure)
    messages = {line["inputFile"].split("/")[-1]: line["exception"]["message"] for line in output.failure}
    assert messages["missing-transfer-syntax.dcm"] == "DICOM attribute TransferSyntaxUID does not exist"
    assert output.success[0]["importResponse"]["isPrimary"] is True
    assert output.manifest["imageSetsSummary"][0]["imageSetVersion"] == 1


def test_client_token_makes_start_idempotent(mi: Any, s3: Any) -> None:
    upload(s3, ct_series(1, 32))
    datastore_id = active_datastore(mi)
    request = dict(
        datastoreId=datastore_id,
        dataAccessRoleArn=ROLE,
        inputS3Uri=f"s3://{INPUT_BUCKET}/in/",
        outputS3Uri=f"s3://{OUTPUT_BUCKET}/out/",
        clientToken="same-token",
    )
    first = mi.start_dicom_import_job(**request)
    again = mi.start_dicom_import_job(**request)
    assert again["jobId"] == first["jobId"]
    with pytest.raises(ClientError) as exc_info:
        mi.start_dicom_import_job(**{**request, "outputS3Uri": f"s3://{OUTPUT_BUCKET}/elsewhere/"})
    assert error_code(exc_info) == ("ConflictException", 409)
    wait_for_job(mi, datastore_id, first["jobId"])


def test_unknown_data_store_and_job(mi: Any, s3: Any) -> None:
    datastore_id = active_datastore(mi)
    with pytest.raises(ClientError) as exc_info:
        mi.get_dicom_import_job(datastoreId=datastore_id, jobId="0" * 32)
    assert error_code(exc_info) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as exc_info:
        start(mi, "f" * 32)
    assert error_code(exc_info) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as exc_info:
        mi.list_dicom_import_jobs(datastoreId="f" * 32)
    assert error_code(exc_info) == ("ResourceNotFoundException", 404)


def test_a_creating_data_store_refuses_imports(mi: Any, endpoint: Any) -> None:
    frozen = time.time()
    endpoint.runtime.clock = lambda: frozen  # the data store stays CREATING
    datastore_id = mi.create_datastore(datastoreName="too-soon")["datastoreId"]
    with pytest.raises(ClientError) as exc_info:
        start(mi, datastore_id)
    assert error_code(exc_info) == ("ConflictException", 409)


def test_concurrent_job_quota(mi: Any, s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    upload(s3, ct_series(1, 32))
    datastore_id = active_datastore(mi)
    monkeypatch.setattr("ahi.emulator.handlers.jobs.MAX_CONCURRENT_JOBS", 1)
    monkeypatch.setattr("ahi.emulator.imports.service.ImportService.start", lambda self, job_id: None)
    start(mi, datastore_id)  # stays SUBMITTED: its worker is held back
    with pytest.raises(ClientError) as exc_info:
        start(mi, datastore_id)
    assert error_code(exc_info) == ("ServiceQuotaExceededException", 402)
