"""Reading hand-made job folders from moto S3 on the local endpoint: every edge ends in a typed outcome."""

from __future__ import annotations

import json
from typing import Any

from triage_helpers import (
    FOLDER,
    JOB_PROPERTIES,
    OUTPUT_BUCKET,
    PutFolder,
    failure_line,
    manifest_document,
)

from ahi.services.imports import (
    FAILURE,
    JobFolder,
    JobFolderReader,
    ReadProgress,
    fetch_raw_line,
    read_job_report,
)
from ahi.services.s3_location import S3ProblemKind, S3Uri

SUCCESS_TEXT = (
    '{"inputFile":"dicom/batch-7/a.dcm","importResponse":{"imageSetId":"' + "f" * 32 + '","isPrimary":true}}\n'
    '{"inputFile":"dicom/batch-7/b.dcm","importResponse":{"imageSetId":"' + "f" * 32 + '","isPrimary":true}}\n'
)
FAILURE_TEXT = "\n".join(
    [
        failure_line("dicom/batch-7/c.dcm", "DICOM attribute TransferSyntaxUID does not exist"),
        failure_line("dicom/batch-7/d.dcm", "Unsupported transfer syntax 1.2.840.10008.1.2.4.100", shard=3),
    ]
) + "\n"
WARNING_TEXT = (
    '{"inputFile":"dicom/batch-7/b.dcm","importResponse":{"imageSetId":"' + "f" * 32 + '","imageSetVersion":1,'
    '"isPrimary":true,"warnings":[{"warning_reason_code":45330,"type":"InvalidOffsetTable","message":"m"}]}}\n'
)


def test_a_complete_folder_reads_into_a_typed_report(put_folder: PutFolder, s3: Any) -> None:
    put_folder(manifest_document(), SUCCESS_TEXT, FAILURE_TEXT, WARNING_TEXT)
    report = read_job_report(s3, JOB_PROPERTIES)
    assert report.manifest.manifest is not None and report.manifest.message == ""
    assert report.manifest.manifest.image_sets[0].is_primary is True
    assert [s.input_file for s in report.successes.records] == ["dicom/batch-7/a.dcm", "dicom/batch-7/b.dcm"]
    assert [f.input_file for f in report.failures.records] == ["dicom/batch-7/c.dcm", "dicom/batch-7/d.dcm"]
    assert report.failures.records[1].extras == {"shard": 3}
    assert [w.warnings[0].type for w in report.warnings.records] == ["InvalidOffsetTable"]
    assert [g.key.pattern for g in report.groups] == [
        "DICOM attribute TransferSyntaxUID does not exist",
        "Unsupported transfer syntax <uid>",
    ]
    assert report.failed_files == 2 and report.needs_attention
    for part in (report.successes, report.failures, report.warnings):
        assert part.problem is None and part.message == ""


def test_an_empty_folder_gives_a_retryable_missing_manifest_and_absent_files(buckets: Any, s3: Any) -> None:
    report = read_job_report(s3, JOB_PROPERTIES)
    assert report.manifest.manifest is None and report.manifest.not_yet_written
    assert "not written yet" in report.manifest.message and "job-output-manifest.json" in report.manifest.message
    for part in (report.successes, report.failures, report.warnings):
        assert part.absent and part.records == []
        assert part.message.startswith(f"No {part.section} file")
    assert report.groups == [] and report.needs_attention


def test_a_clean_job_with_empty_files_does_not_need_attention(put_folder: PutFolder, s3: Any) -> None:
    manifest = manifest_document(numberOfScannedFiles=2, numberOfFilesWithCustomerError=0)
    put_folder(manifest, SUCCESS_TEXT, "", "")
    report = read_job_report(s3, JOB_PROPERTIES)
    assert report.failures.problem is None and report.failures.tally.lines == 0
    assert report.failed_files == 0 and not report.needs_attention


def test_missing_manifest_still_shows_failures_from_the_default_location(put_folder: PutFolder, s3: Any) -> None:
    put_folder(None, None, FAILURE_TEXT, None)
    report = read_job_report(s3, JOB_PROPERTIES)
    assert report.manifest.not_yet_written
    assert report.failed_files == 2 and sum(g.count for g in report.groups) == 2


def test_a_manifest_that_is_not_json_is_reported_and_the_rest_still_reads(put_folder: PutFolder, s3: Any) -> None:
    put_folder(b'{"jobSummary": ', SUCCESS_TEXT, FAILURE_TEXT, None)
    report = read_job_report(s3, JOB_PROPERTIES)
    assert report.manifest.manifest is None and not report.manifest.not_yet_written
    assert "not a job manifest" in report.manifest.message and "not valid JSON" in report.manifest.message
    assert len(report.failures.records) == 2 and len(report.successes.records) == 2


def test_malformed_lines_are_reported_by_number_without_aborting(put_folder: PutFolder, s3: Any) -> None:
    lines = FAILURE_TEXT.splitlines()
    text = "\n".join([lines[0], "{oops", '{"no": "inputFile"}', lines[1], "[]"]) + "\n"
    put_folder(manifest_document(), None, text, None)
    report = read_job_report(s3, JOB_PROPERTIES)
    assert len(report.failures.records) == 2
    assert [m.span.number for m in report.failures.tally.malformed] == [2, 3, 5]
    assert "3 malformed line(s) skipped: 2, 3, 5." in report.failures.message
    assert report.failures.tally.malformed[0].excerpt == "{oops"


def test_extra_fields_everywhere_are_kept(put_folder: PutFolder, s3: Any) -> None:
    manifest = manifest_document(numberOfFilesWithWarnings=1)
    manifest["reportVersion"] = 2
    success = '{"inputFile":"dicom/batch-7/a.dcm","importResponse":{"imageSetId":"x","seriesUid":"1.2"},"t":1}\n'
    put_folder(manifest, success, None, None)
    report = read_job_report(s3, JOB_PROPERTIES)
    assert report.manifest.manifest is not None
    assert report.manifest.manifest.extras == {"numberOfFilesWithWarnings": 1}
    assert report.manifest.manifest.top_level_extras == {"reportVersion": 2}
    [line] = report.successes.records
    assert (line.extras, line.response_extras) == ({"t": 1}, {"seriesUid": "1.2"})


def test_the_manifest_locations_are_followed(put_folder: PutFolder, s3: Any) -> None:
    elsewhere = f"s3://{OUTPUT_BUCKET}/moved/FAILURE/"
    put_folder(manifest_document(failureOutputS3Uri=elsewhere))
    s3.put_object(Bucket=OUTPUT_BUCKET, Key="moved/FAILURE/failure.ndjson", Body=FAILURE_TEXT.encode())
    report = read_job_report(s3, JOB_PROPERTIES)
    assert str(report.failures.uri) == elsewhere + "failure.ndjson" and len(report.failures.records) == 2


def test_a_missing_bucket_is_a_typed_problem_everywhere(s3: Any, endpoint: Any) -> None:
    properties = {**JOB_PROPERTIES, "outputS3Uri": "s3://no-such-bucket-here/out/"}
    report = read_job_report(s3, properties)
    assert report.manifest.problem is not None
    assert report.manifest.problem.kind is S3ProblemKind.NO_SUCH_BUCKET
    assert "bucket" in report.manifest.message and "NoSuchBucket" in report.manifest.message
    assert report.failures.problem is not None and report.failures.problem.kind is S3ProblemKind.NO_SUCH_BUCKET
    assert not report.failures.absent and "does not exist" in report.failures.message


def test_a_bucket_policy_denial_spares_the_other_files(put_folder: PutFolder, s3: Any) -> None:
    put_folder(manifest_document(), SUCCESS_TEXT, FAILURE_TEXT, WARNING_TEXT)
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{OUTPUT_BUCKET}/{FOLDER.uri.key}FAILURE/*"}  # fmt: skip
    s3.put_bucket_policy(Bucket=OUTPUT_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    report = read_job_report(s3, JOB_PROPERTIES)
    assert report.failures.problem is not None and report.failures.problem.kind is S3ProblemKind.ACCESS_DENIED
    assert report.failures.message.startswith("Access denied reading s3://")
    assert report.manifest.manifest is not None and len(report.successes.records) == 2
    assert len(report.warnings.records) == 1 and report.needs_attention


def test_an_iam_denial_is_access_denied(put_folder: PutFolder, enforce_iam: Any) -> None:
    put_folder(manifest_document(), SUCCESS_TEXT, FAILURE_TEXT, None)
    reader_s3 = enforce_iam(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{OUTPUT_BUCKET}/*/job-output-manifest.json"},
            ],
        }
    )
    report = read_job_report(reader_s3, JOB_PROPERTIES)
    assert report.manifest.problem is not None and report.manifest.problem.kind is S3ProblemKind.ACCESS_DENIED
    assert "(AccessDenied)" in report.manifest.message
    assert len(report.failures.records) == 2 and len(report.successes.records) == 2


def test_progress_is_reported_until_done(put_folder: PutFolder, s3: Any) -> None:
    text = "".join(failure_line(f"dicom/batch-7/{i}.dcm", f"bad value {i}") + "\n" for i in range(3000))
    put_folder(manifest_document(), None, text, None)
    reader = JobFolderReader(s3, FOLDER)
    reader.read_manifest()
    seen: list[ReadProgress] = []
    result, grouper = reader.read_failures(on_progress=seen.append)
    assert seen[0].total_bytes == len(text) and seen[-1].done and seen[-1].fraction == 1.0
    assert [p.bytes_read for p in seen] == sorted(p.bytes_read for p in seen)
    assert seen[-1].lines == 3000 and result.tally.records == 3000
    assert [(g.key.pattern, g.count) for g in grouper.groups()] == [("bad value <n>", 3000)]


def test_a_raw_line_is_fetched_again_by_range(put_folder: PutFolder, s3: Any) -> None:
    put_folder(manifest_document(), None, FAILURE_TEXT, None)
    report = read_job_report(s3, JOB_PROPERTIES)
    second = report.failures.records[1]
    assert fetch_raw_line(s3, report.failures.uri, second.span) == FAILURE_TEXT.splitlines()[1]
    missing = fetch_raw_line(s3, S3Uri(OUTPUT_BUCKET, "gone.ndjson"), second.span)
    assert not isinstance(missing, str) and missing.kind is S3ProblemKind.MISSING


def test_job_folder_from_either_form_of_output_uri() -> None:
    given = JobFolder.for_job(f"s3://{OUTPUT_BUCKET}/job_output", JOB_PROPERTIES["datastoreId"], JOB_PROPERTIES["jobId"])
    returned = JobFolder.for_job(JOB_PROPERTIES["outputS3Uri"], JOB_PROPERTIES["datastoreId"], JOB_PROPERTIES["jobId"])
    assert given == returned == FOLDER
    assert str(FOLDER.parent_output_uri) == f"s3://{OUTPUT_BUCKET}/job_output/"
    assert str(FOLDER.section_uri(FAILURE)) == JOB_PROPERTIES["outputS3Uri"] + "FAILURE/failure.ndjson"
