"""Whether re-importing the files that failed for one reason can succeed, and if not, why not.

A re-import sends the same bytes again with the same role. It helps where the failure came from the
moment or the access (throttling, an internal error, a permission since fixed); it cannot help where
the file's content was rejected (docs/reimport.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Exception types of a failed file that say nothing about its content: a later attempt can pass.
TRANSIENT_TYPES = frozenset({
    "InternalServerException", "ThrottlingException", "ServiceQuotaExceededException",
    "ServiceUnavailableException", "AccessDeniedException", "ResourceNotFoundException",
})  # fmt: skip
#: Messages that name access or the moment, whatever the exception type says.
TRANSIENT_MESSAGE = re.compile(r"access denied|not authorized|throttl|slow down|timed? ?out|try again|internal error", re.I)
#: Content failures with their own explanation (the first that matches is used).
CONTENT_REASONS = (
    (re.compile(r"not a DICOM P10 file", re.I), "the object is not a DICOM P10 file"),
    (re.compile(r"truncated", re.I), "the file is truncated"),
    (re.compile(r"transfer syntax .* is not supported", re.I), "its transfer syntax is not supported"),
    (re.compile(r"size quota|over the .* quota", re.I), "the file is over the size quota"),
    (re.compile(r"DICOM attribute \w+ does not exist", re.I), "a required DICOM attribute is missing"),
    (re.compile(r"DICOM attribute \w+ is \d+ characters long", re.I), "a DICOM value is over its length limit"),
)


#: How the failure reasons list marks each reason (words, not only a colour; the same width, so reasons line up).
RETRY_HELPS_MARK = "retry ok"
RETRY_FUTILE_MARK = "no retry"


@dataclass(frozen=True, slots=True)
class RetryVerdict:
    """`helps` False comes with `why`, a short clause a person can act on."""

    helps: bool
    why: str = ""

    @property
    def mark(self) -> str:
        """The word the reasons list shows for this verdict (docs/reimport.md)."""
        return RETRY_HELPS_MARK if self.helps else RETRY_FUTILE_MARK


def retry_verdict(exception_type: str, message: str) -> RetryVerdict:
    """Can re-importing a file that failed with this exception succeed without changing the file?

    An exception type this table does not know is given the benefit of the doubt (a retry is offered):
    public material lists no closed set of per-file exception types, so refusing would be a guess.
    """
    if exception_type in TRANSIENT_TYPES or TRANSIENT_MESSAGE.search(message):
        return RetryVerdict(True)
    for pattern, why in CONTENT_REASONS:
        if pattern.search(message):
            return RetryVerdict(False, f"{why}; a retry sends the same bytes and fails the same way")
    if exception_type == "ValidationException":
        return RetryVerdict(False, "the file's content was rejected; a retry sends the same bytes and fails the same way")
    return RetryVerdict(True)
