"""Re-import is offered only for failures a retry of the same bytes can pass; the endpoint's own messages are judged."""

from __future__ import annotations

import pytest

from ahi.services.retry_reasons import retry_verdict

CONTENT = [
    "The file is not a DICOM P10 file: it lacks the 128-byte preamble, the 'DICM' prefix or the File Meta Information.",
    "The file is truncated: element (7FE0,0010) declares 8192 bytes but only 3512 are present.",
    "Transfer syntax 1.2.840.10008.1.2.4.100 (MPEG2 Main Profile / Main Level) is not supported; see the supported transfer syntaxes.",
    "DICOM attribute SeriesInstanceUID does not exist",
    "DICOM attribute PatientID is 70 characters long; the import limit is 64",
    "Some rule nobody listed",
]


@pytest.mark.parametrize("message", CONTENT)
def test_content_failures_are_not_offered_and_say_why(message: str) -> None:
    verdict = retry_verdict("ValidationException", message)
    assert not verdict.helps and "same bytes" in verdict.why


def test_the_not_p10_reason_names_itself() -> None:
    assert retry_verdict("ValidationException", CONTENT[0]).why.startswith("the object is not a DICOM P10 file")


@pytest.mark.parametrize(
    ("exception_type", "message"),
    [
        ("InternalServerException", "The file could not be processed because of an internal error (TimeoutError: read timed out)."),
        ("ThrottlingException", "Rate exceeded"),
        ("AccessDeniedException", "Access Denied"),
        ("ValidationException", "Access Denied reading s3://in/x.dcm"),
        ("SomethingNew", "whatever it is"),
    ],
)
def test_failures_of_the_moment_or_of_access_are_offered(exception_type: str, message: str) -> None:
    assert retry_verdict(exception_type, message).helps


def test_each_verdict_has_a_word_mark_of_the_same_width() -> None:
    """The reasons list shows the verdict in words (not only a colour), aligned across reasons."""
    offered = retry_verdict("ThrottlingException", "Rate exceeded")
    refused = retry_verdict("ValidationException", CONTENT[0])
    assert (offered.mark, refused.mark) == ("retry ok", "no retry")
    assert len(offered.mark) == len(refused.mark)
