"""Failure grouping: variable parts of messages become placeholders, groups count their files."""

from __future__ import annotations

import pytest

from ahi.services.failure_reasons import FailureGrouper, group_failures, normalize_message
from ahi.services.job_output import FailureLine, LineSpan


@pytest.mark.parametrize(
    ("message", "pattern"),
    [
        ("DICOM attribute TransferSyntaxUID does not exist", "DICOM attribute TransferSyntaxUID does not exist"),
        ("Unsupported transfer syntax 1.2.840.10008.1.2.4.100", "Unsupported transfer syntax <uid>"),
        ("File dicom_input/a/b/c.dcm is too large: 5368709121 bytes", "File <path> is too large: <n> bytes"),
        ('PatientName "DOE^JOHN" exceeds 64 characters', "PatientName <value> exceeds <n> characters"),
        ("PatientName 'X' is too long", "PatientName <value> is too long"),
        ("Element (0010,0010) length 80 exceeds limit 64", "Element <tag> length <n> exceeds limit <n>"),
        ("checksum mismatch for frame 3 (expected 0x1a2b3c4d, got 0x00ff00ff)",
         "checksum mismatch for frame <n> (expected <hex>, got <hex>)"),
        ("Image set 12345612345612345678907890789012 is locked", "Image set <id> is locked"),
        ("request 550e8400-e29b-41d4-a716-446655440000 failed", "request <id> failed"),
        ("digest 9f86d081884c7d65 mismatch at 1a2b3c4d", "digest <id> mismatch at <hex>"),
        ("Could not read s3://bucket/key/x.dcm", "Could not read <uri>"),
        ("  two   spaces\tand a tab ", "two spaces and a tab"),
        ("Transfer syntax 1.2.840.10008.1.2.4.100 (MPEG2 Main Profile / Main Level) is not supported",
         "Transfer syntax <uid> (MPEG2 Main Profile / Main Level) is not supported"),
    ],
)  # fmt: skip
def test_normalize_message(message: str, pattern: str) -> None:
    assert normalize_message(message) == pattern


def _failure(n: int, exception_type: str, message: str) -> FailureLine:
    return FailureLine(LineSpan(n, n * 100, 100), f"in/{n}.dcm", exception_type, message)


def test_groups_by_type_and_pattern_largest_first_members_in_file_order() -> None:
    failures = [
        _failure(1, "ValidationException", "Unsupported transfer syntax 1.2.3.4"),
        _failure(2, "ValidationException", "PatientName 'A' exceeds 64 characters"),
        _failure(3, "ValidationException", "Unsupported transfer syntax 1.2.840.10008.1.2.4.100"),
        _failure(4, "InternalServerException", "Unsupported transfer syntax 1.2.3.4"),
        _failure(5, "ValidationException", "Unsupported transfer syntax 1.2.840.10008.1.2.5"),
    ]
    groups = group_failures(failures)
    assert [(g.key.label, g.count) for g in groups] == [
        ("ValidationException: Unsupported transfer syntax <uid>", 3),
        ("ValidationException: PatientName <value> exceeds <n> characters", 1),
        ("InternalServerException: Unsupported transfer syntax <uid>", 1),
    ]
    assert [m.span.number for m in groups[0].members] == [1, 3, 5]
    assert groups[0].example_message == "Unsupported transfer syntax 1.2.3.4"


def test_grouper_is_usable_while_failures_stream_in() -> None:
    grouper = FailureGrouper()
    grouper.add(_failure(1, "ValidationException", "bad 1"))
    assert [g.count for g in grouper.groups()] == [1]
    grouper.add(_failure(2, "ValidationException", "bad 2"))
    grouper.add(_failure(3, "ValidationException", ""))
    assert [(g.key.label, g.count) for g in grouper.groups()] == [
        ("ValidationException: bad <n>", 2),
        ("ValidationException", 1),
    ]
    assert grouper.total == 3
