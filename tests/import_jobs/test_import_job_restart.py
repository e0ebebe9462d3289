"""A restart in the middle of a job: committed image sets stay, the job resumes, every file is reported once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from import_job_helpers import active_datastore, read_output, start, upload, wait_for_job

from ahi.emulator.demo.phantoms import ct_series
from ahi.emulator.dicom.grouping import ImageSetDraft
from ahi.emulator.imports.runner import JobRunner
from ahi.emulator.store.import_jobs import ImportJob

SERIES = 4


def committed_image_sets(endpoint: Any, job_id: str) -> list[str]:
    with endpoint.runtime.store.read() as conn:
        rows = conn.execute("SELECT image_set_id FROM image_sets WHERE import_job_id = ? ORDER BY seq", (job_id,))
        return [row[0] for row in rows]


def test_restart_mid_job_loses_nothing_reported_done(
    mi: Any,
    s3: Any,
    endpoint: Any,
    restart_endpoint: Callable[[], Any],
    make_client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = [item for index in range(SERIES) for item in ct_series(2, 32, series_key=f"s{index}")]
    upload(s3, files)
    datastore_id = active_datastore(mi)
    original_commit = JobRunner._commit

    def slow_commit(self: JobRunner, job: ImportJob, draft: ImageSetDraft) -> None:
        original_commit(self, job, draft)
        time.sleep(0.4)

    monkeypatch.setattr(JobRunner, "_commit", slow_commit)
    job_id = start(mi, datastore_id)
    deadline = time.monotonic() + 30
    while not (before := committed_image_sets(endpoint, job_id)):
        assert time.monotonic() < deadline, "no image set was committed"
        time.sleep(0.02)
    for image_set_id in before:
        assert mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetState"] == "ACTIVE"

    endpoint = restart_endpoint()
    assert len(before) < SERIES, "the restart came before the job had committed everything"
    mi = make_client("medical-imaging")
    properties = wait_for_job(mi, datastore_id, job_id)
    assert properties["jobStatus"] == "COMPLETED"

    output = read_output(make_client("s3"), properties)
    reported = sorted(line["inputFile"] for line in output.success + output.failure)
    assert reported == sorted(f"in/{name}" for name, _ in files), "every file reported exactly once"
    summary_ids = [entry["imageSetId"] for entry in output.manifest["imageSetsSummary"]]
    assert summary_ids[: len(before)] == before, "image sets committed before the restart are kept and reported"
    assert len(summary_ids) == SERIES == output.manifest["numberOfGeneratedImageSets"]
    assert output.manifest["numberOfImportedFiles"] == len(files)
    for image_set_id in summary_ids:
        assert mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["versionId"] == "1"
    leftovers = sorted(path.name for path in (endpoint.runtime.frames.root / "jobs" / job_id).iterdir())
    assert len(leftovers) == len(files), "one frame file per frame, no orphans from the interrupted run"


def test_a_resumed_job_whose_input_is_gone_fails_with_a_message(
    mi: Any,
    s3: Any,
    endpoint: Any,
    restart_endpoint: Callable[[], Any],
    make_client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a real process restart moto's buckets are gone: the resumed job ends FAILED naming the bucket."""
    upload(s3, ct_series(2, 32))
    datastore_id = active_datastore(mi)
    monkeypatch.setattr("ahi.emulator.imports.service.ImportService.start", lambda self, job_id: None)
    job_id = start(mi, datastore_id)
    assert mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"] == "SUBMITTED"
    for key in [entry["Key"] for entry in s3.list_objects_v2(Bucket="dicom-input")["Contents"]]:
        s3.delete_object(Bucket="dicom-input", Key=key)
    s3.delete_bucket(Bucket="dicom-input")
    monkeypatch.undo()
    restart_endpoint()
    properties = wait_for_job(make_client("medical-imaging"), datastore_id, job_id)
    assert properties["jobStatus"] == "FAILED"
    assert "input bucket dicom-input" in properties["message"]
