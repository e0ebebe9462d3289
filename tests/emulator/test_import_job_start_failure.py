"""An import job whose pipeline cannot even start ends FAILED with a message, instead of staying SUBMITTED forever."""

from __future__ import annotations

import time
from typing import Any

import pytest
from imageset_flows import new_datastore
from import_runs import ROLE

from ahi.emulator.imports.service import ImportService
from ahi.emulator.server import LocalEndpoint


def broken_runner(self: ImportService) -> Any:
    raise ImportError("a module of the pipeline failed to import")


def test_a_job_whose_runner_cannot_load_ends_failed(
    endpoint: LocalEndpoint, mi: Any, s3: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ImportService, "runner", property(broken_runner))
    datastore_id = new_datastore(mi)
    for bucket in ("start-failure-in", "start-failure-out"):
        s3.create_bucket(Bucket=bucket)
    job_id = mi.start_dicom_import_job(
        datastoreId=datastore_id, dataAccessRoleArn=ROLE,
        inputS3Uri="s3://start-failure-in/", outputS3Uri="s3://start-failure-out/",
    )["jobId"]
    deadline = time.monotonic() + 30
    while (job := mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"])["jobStatus"] in (
        "SUBMITTED", "IN_PROGRESS"
    ):
        assert time.monotonic() < deadline, f"the job stayed {job['jobStatus']}"
        time.sleep(0.05)
    assert job["jobStatus"] == "FAILED"
    assert job["message"] == "The import job failed because of an internal error (ImportError)"
    assert "endedAt" in job
    assert any("could not run" in record.getMessage() for record in caplog.records)
