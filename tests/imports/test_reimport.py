"""Re-import of failed files: a plan to confirm, copies beside the input, a new job with the same role and output."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from triage_helpers import INPUT_BUCKET, JOB_PROPERTIES, OUTPUT_BUCKET, run_import, wait_for_job

from ahi.emulator.demo.phantoms import broken_files, ct_series
from ahi.services.import_form import StartImportForm, validate
from ahi.services.imports import read_job_report
from ahi.services.reimport import plan_reimport, reimport_job_name, reimport_prefix, run_reimport
from ahi.services.s3_location import S3ProblemKind, S3Uri

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def test_the_new_prefix_sits_beside_the_input() -> None:
    assert str(reimport_prefix(S3Uri("in", "dicom/batch-7/"), NOW)) == "s3://in/dicom/batch-7-reimport-20260304T050607Z/"
    assert str(reimport_prefix(S3Uri("in", "batch"), NOW)) == "s3://in/batch-reimport-20260304T050607Z/"
    assert str(reimport_prefix(S3Uri("in", ""), NOW)) == "s3://in/reimport-20260304T050607Z/"


def test_job_names_stay_valid_for_the_model() -> None:
    for original in ("nightly-ct", "x" * 64, "names with spaces & symbols!", None):
        name = reimport_job_name(original, NOW)
        assert name.endswith("-reimport-20260304T050607Z") and len(name) <= 64
        form = StartImportForm("d" * 32, "s3://in-bucket/a/", "s3://out-bucket/b/", JOB_PROPERTIES["dataAccessRoleArn"], name)
        assert validate(form) == [], name


def test_the_plan_keeps_relative_paths_and_the_job_settings() -> None:
    files = ["dicom/batch-7/broken/a.dcm", "broken/b.dcm", "dicom/batch-7/c.dcm", "dicom/batch-7/c.dcm"]
    plan = plan_reimport(JOB_PROPERTIES, files, NOW)
    target = "dicom/batch-7-reimport-20260304T050607Z/"
    assert [(i.source, i.target) for i in plan.items] == [
        ("dicom/batch-7/broken/a.dcm", target + "broken/a.dcm"),
        ("dicom/batch-7/broken/b.dcm", target + "broken/b.dcm"),
        ("dicom/batch-7/c.dcm", target + "c.dcm"),
    ]
    assert plan.output_s3_uri == f"s3://{OUTPUT_BUCKET}/job_output/"
    assert (plan.role_arn, plan.datastore_id) == (JOB_PROPERTIES["dataAccessRoleArn"], JOB_PROPERTIES["datastoreId"])
    assert plan.summary.startswith(f"Copy 3 failed file(s) from s3://{INPUT_BUCKET}/dicom/batch-7/ to s3://{INPUT_BUCKET}/{target}")


def test_reimport_copies_the_failed_files_and_starts_a_job_on_them(mi: Any, buckets: Any) -> None:
    broken = broken_files()
    job = run_import(mi, buckets, ct_series(2, 32) + broken)
    report = read_job_report(buckets, job)
    plan = plan_reimport(job, [f.input_file for f in report.failures.records])
    assert plan.file_count == len(broken)

    progress: list[tuple[int, int]] = []
    result = run_reimport(buckets, mi, plan, on_copied=lambda done, total: progress.append((done, total)))
    assert result.start_error is None and result.copy_failures == [] and len(result.copied) == len(broken)
    assert progress[-1] == (len(broken), len(broken))
    for name, data in broken:
        copied = buckets.get_object(Bucket=INPUT_BUCKET, Key=plan.target_prefix.key + name)["Body"].read()
        assert copied == data

    assert result.job_id is not None and result.job is not None and result.job["jobStatus"] == "SUBMITTED"
    again = wait_for_job(mi, job["datastoreId"], result.job_id)
    assert again["inputS3Uri"] == str(plan.target_prefix) and again["jobName"] == plan.job_name
    assert again["dataAccessRoleArn"] == job["dataAccessRoleArn"]
    assert again["outputS3Uri"].startswith(f"s3://{OUTPUT_BUCKET}/job_output/{job['datastoreId']}-DicomImport-")
    second = read_job_report(buckets, again)
    assert second.manifest.manifest is not None and second.manifest.manifest.scanned_files == len(broken)
    assert [g.key for g in second.groups] == [g.key for g in report.groups]


def test_a_source_that_vanished_is_reported_and_the_rest_still_goes(mi: Any, buckets: Any) -> None:
    broken = broken_files()[:3]
    job = run_import(mi, buckets, broken)
    report = read_job_report(buckets, job)
    plan = plan_reimport(job, [f.input_file for f in report.failures.records])
    buckets.delete_object(Bucket=INPUT_BUCKET, Key=plan.items[0].source)
    result = run_reimport(buckets, mi, plan)
    assert [item.source for item, _ in result.copy_failures] == [plan.items[0].source]
    assert result.copy_failures[0][1].kind is S3ProblemKind.MISSING
    assert len(result.copied) == 2 and result.job_id is not None
    wait_for_job(mi, job["datastoreId"], result.job_id)


def test_nothing_copied_means_no_job(mi: Any, buckets: Any) -> None:
    plan = plan_reimport({**JOB_PROPERTIES, "inputS3Uri": "s3://no-such-input-bucket/x/"}, ["x/a.dcm"], NOW)
    calls: list[str] = []
    mi.meta.events.register("before-call.medical-imaging", lambda model, **kw: calls.append(model.name))
    result = run_reimport(buckets, mi, plan)
    assert calls == [] and result.job is None and result.copied == []
    assert result.start_error == "No file could be copied, so no job was started."
    assert result.copy_failures[0][1].kind is S3ProblemKind.NO_SUCH_BUCKET


def test_a_refused_start_is_reported_not_raised(mi: Any, buckets: Any) -> None:
    buckets.put_object(Bucket=INPUT_BUCKET, Key="dicom/batch-7/a.dcm", Body=b"x")
    plan = plan_reimport(JOB_PROPERTIES, ["dicom/batch-7/a.dcm"], NOW)
    result = run_reimport(buckets, mi, plan)
    assert result.job is None and len(result.copied) == 1
    assert result.start_error is not None and result.start_error.startswith("ResourceNotFoundException: ")
