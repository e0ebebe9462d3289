"""Parsing the job output files from bytes: documented fields, unknown extras, malformed lines."""

from __future__ import annotations

import json

import pytest

from ahi.services.job_output import (
    NO_EXTRAS,
    FailureLine,
    LineTally,
    Manifest,
    RecordError,
    SuccessLine,
    WarningLine,
    parse_ndjson,
    split_lines,
)

GUIDE_MANIFEST = {
    "jobSummary": {
        "jobId": "09876543210987654321098765432109",
        "datastoreId": "12345678901234567890123456789012",
        "inputS3Uri": "s3://medical-imaging-dicom-input/dicom_input/",
        "outputS3Uri": "s3://medical-imaging-output/job_output/ds-DicomImport-job/",
        "successOutputS3Uri": "s3://medical-imaging-output/job_output/ds-DicomImport-job/SUCCESS/",
        "failureOutputS3Uri": "s3://medical-imaging-output/job_output/ds-DicomImport-job/FAILURE/",
        "numberOfScannedFiles": 5,
        "numberOfImportedFiles": 3,
        "numberOfFilesWithCustomerError": 2,
        "numberOfFilesWithServerError": 0,
        "numberOfGeneratedImageSets": 2,
        "imageSetsSummary": [
            {"imageSetId": "12345612345612345678907890789012", "numberOfMatchedSOPInstances": 2},
            {"imageSetId": "12345612345612345678917891789012", "numberOfMatchedSOPInstances": 1},
        ],
    }
}


def test_manifest_of_the_developer_guide() -> None:
    manifest = Manifest.from_bytes(json.dumps(GUIDE_MANIFEST).encode())
    assert manifest.job_id == "09876543210987654321098765432109"
    assert (manifest.scanned_files, manifest.imported_files, manifest.failed_files) == (5, 3, 2)
    assert [s.matched_instances for s in manifest.image_sets] == [2, 1]
    assert manifest.warnings_output_s3_uri is None
    assert manifest.extras is NO_EXTRAS and manifest.image_sets[0].is_primary is None


def test_manifest_keeps_unknown_fields_and_the_newer_per_image_set_fields() -> None:
    document = json.loads(json.dumps(GUIDE_MANIFEST))
    summary = document["jobSummary"]
    summary["warningsOutputS3Uri"] = "s3://out/job/WARNING/"
    summary["numberOfFilesWithWarnings"] = 7
    summary["imageSetsSummary"][0].update(imageSetVersion=1, isPrimary=True, seriesInstanceUID="1.2.3")
    document["schemaVersion"] = "2"
    manifest = Manifest.from_bytes(json.dumps(document).encode())
    assert manifest.extras == {"numberOfFilesWithWarnings": 7}
    assert manifest.top_level_extras == {"schemaVersion": "2"}
    first = manifest.image_sets[0]
    assert (first.image_set_version, first.is_primary, first.extras) == (1, True, {"seriesInstanceUID": "1.2.3"})
    assert manifest.warnings_output_s3_uri == "s3://out/job/WARNING/"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "manifest is not a JSON object"),
        (b'{"summary": {}}', "jobSummary is not a JSON object"),
        (b'{"jobSummary": {"imageSetsSummary": {}}}', "imageSetsSummary is not a list"),
        (b'{"jobSummary": {"imageSetsSummary": [{"numberOfMatchedSOPInstances": 1}]}}', "no string imageSetId"),
    ],
)
def test_a_manifest_that_is_not_one_is_a_record_error(data: bytes, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        Manifest.from_bytes(data)


def test_success_failure_and_warning_lines_of_the_guide() -> None:
    success = (
        b'{"inputFile":"dicomInputFolder/1.3.51.5145.5142.20010109.1105620.1.0.1.dcm",'
        b'"importResponse":{"imageSetId":"12345612345612345678907890789012","isPrimary":true}}\n'
    )
    failure = (
        b'{"inputFile":"dicom_input/invalidDicomFile1.dcm","exception":{"exceptionType":"ValidationException",'
        b'"message":"DICOM attribute TransferSyntaxUID does not exist"}}\n'
    )
    warning = (
        b'{"inputFile":"dicom_input/warningDicomFile1.dcm","importResponse":{"imageSetId":"abc","imageSetVersion":1,'
        b'"isPrimary":true,"warnings":[{"warning_reason_code":45330,"type":"InvalidOffsetTable",'
        b'"message":"The file was imported but contains an invalid offset table"}]}}\n'
    )
    [s] = parse_ndjson(split_lines(success), SuccessLine.from_json)
    assert (s.input_file.endswith(".1.0.1.dcm"), s.image_set_id, s.is_primary) == (True, "12345612345612345678907890789012", True)
    [f] = parse_ndjson(split_lines(failure), FailureLine.from_json)
    assert (f.exception_type, f.message) == ("ValidationException", "DICOM attribute TransferSyntaxUID does not exist")
    [w] = parse_ndjson(split_lines(warning), WarningLine.from_json)
    assert (w.image_set_version, len(w.warnings), w.warnings[0].reason_code, w.warnings[0].type) == (
        1, 1, 45330, "InvalidOffsetTable",
    )  # fmt: skip


def test_unknown_fields_are_kept_at_every_level() -> None:
    line = (
        b'{"inputFile":"in/a.dcm","attempt":2,"exception":{"exceptionType":"InternalServerException",'
        b'"message":"boom","requestId":"r-1"}}\n'
    )
    [failure] = parse_ndjson(split_lines(line), FailureLine.from_json)
    assert failure.extras == {"attempt": 2}
    assert failure.exception_extras == {"requestId": "r-1"}


def test_malformed_lines_are_counted_with_numbers_and_the_rest_still_parses() -> None:
    good = b'{"inputFile":"in/%d.dcm","exception":{"exceptionType":"ValidationException","message":"bad %d"}}\n'
    data = b"".join(
        [
            good % (1, 1),
            b"{truncated\n",
            b"\n",
            good % (2, 2),
            b'["a list"]\n',
            b'{"exception":{}}\n',
            b"\xff\xfe not utf-8\r\n",
            good % (3, 3),
        ]
    )
    tally: LineTally[FailureLine] = LineTally()
    records = list(parse_ndjson(split_lines(data), FailureLine.from_json, tally))
    assert [r.input_file for r in records] == ["in/1.dcm", "in/2.dcm", "in/3.dcm"]
    assert [r.span.number for r in records] == [1, 4, 8]
    assert [(m.span.number, m.reason.split(":")[0]) for m in tally.malformed] == [
        (2, "invalid JSON"),
        (5, "line is not a JSON object"),
        (6, "missing string field inputFile"),
        (7, "not UTF-8 text"),
    ]
    assert (tally.lines, tally.records, tally.blank_lines, tally.bytes_read) == (8, 3, 1, len(data))


def test_line_spans_locate_the_exact_bytes_of_each_line() -> None:
    data = b'{"inputFile":"a","exception":{}}\r\n{"inputFile":"bb","exception":{}}\n{"inputFile":"c","exception":{}}'
    records = list(parse_ndjson(split_lines(data), FailureLine.from_json))
    for record in records:
        raw = data[record.span.offset : record.span.offset + record.span.length]
        assert json.loads(raw)["inputFile"] == record.input_file
    assert records[-1].span.offset + records[-1].span.length == len(data)


def test_a_failure_without_exception_details_is_kept_as_unknown() -> None:
    [failure] = parse_ndjson(split_lines(b'{"inputFile":"x.dcm"}'), FailureLine.from_json)
    assert (failure.exception_type, failure.message) == ("UnknownException", "")
