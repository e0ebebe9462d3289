"""The service on the real output of local-endpoint imports: a clean job, a job with failures, a FAILED job."""

from __future__ import annotations

from typing import Any

from triage_helpers import INPUT_BUCKET, run_import

from ahi.emulator.demo.phantoms import broken_files, ct_series
from ahi.services.imports import read_job_report
from ahi.services.input_objects import InputObjects, ObjectInfo
from ahi.services.s3_location import S3Uri


def test_a_clean_import_reads_as_clean(mi: Any, buckets: Any) -> None:
    job = run_import(mi, buckets, ct_series(3, 32))
    report = read_job_report(buckets, job)
    manifest = report.manifest.manifest
    assert job["jobStatus"] == "COMPLETED" and manifest is not None
    assert (manifest.scanned_files, manifest.imported_files, manifest.failed_files) == (3, 3, 0)
    assert manifest.job_id == job["jobId"] and len(manifest.image_sets) == manifest.generated_image_sets == 1
    assert len(report.successes.records) == 3
    assert {s.image_set_id for s in report.successes.records} == {manifest.image_sets[0].image_set_id}
    assert report.failures.records == [] and report.failures.problem is None and report.groups == []
    assert not report.needs_attention


def test_failed_files_group_by_reason_and_their_inputs_are_found(mi: Any, buckets: Any) -> None:
    broken = broken_files()
    job = run_import(mi, buckets, ct_series(2, 32) + broken)
    report = read_job_report(buckets, job)
    assert job["jobStatus"] == "COMPLETED" and report.needs_attention
    assert report.failed_files == len(broken) == len(report.failures.records)
    assert sum(g.count for g in report.groups) == len(broken)
    assert all(g.key.exception_type == "ValidationException" for g in report.groups)
    labels = [g.key.label for g in report.groups]
    assert any("TransferSyntaxUID does not exist" in label for label in labels), labels
    assert any("PatientID" in label and "<n>" in label for label in labels), labels

    sizes = dict(broken)
    objects = InputObjects(buckets, S3Uri.parse(job["inputS3Uri"]))
    found = objects.lookup(f.input_file for f in report.failures.records)
    for input_file, info in found.items():
        assert isinstance(info, ObjectInfo), (input_file, info)
        assert info.uri.bucket == INPUT_BUCKET and info.size == len(sizes[input_file.rpartition("batch-7/")[2]])


def test_a_failed_job_says_why_there_is_no_manifest(mi: Any, buckets: Any) -> None:
    job = run_import(mi, buckets, [], input_uri="s3://no-such-input-bucket/in/")
    report = read_job_report(buckets, job)
    assert job["jobStatus"] == "FAILED"
    assert report.manifest.manifest is None and not report.manifest.not_yet_written
    assert report.manifest.message.startswith("The job FAILED, so no manifest was written: ")
    assert "no-such-input-bucket" in report.manifest.message
    assert report.needs_attention and report.groups == []
