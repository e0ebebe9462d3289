"""S3 URIs and the typed outcome of an S3 read that did not work (missing, denied, no bucket, other)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from botocore.exceptions import BotoCoreError, ClientError


@dataclass(frozen=True, slots=True)
class S3Uri:
    """`s3://bucket/key`; for a prefix the key ends with `/` (or is empty for the bucket root)."""

    bucket: str
    key: str = ""

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        """Split an `s3://` URI; raises ValueError naming the rule when it is not one."""
        if not uri.startswith("s3://"):
            raise ValueError(f"{uri!r} is not an S3 URI: it must start with s3://")
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"{uri!r} is not an S3 URI: it names no bucket")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def as_prefix(self) -> S3Uri:
        """The same location with a trailing `/` (the bucket root stays empty)."""
        return self if not self.key or self.key.endswith("/") else S3Uri(self.bucket, self.key + "/")

    def join(self, relative: str) -> S3Uri:
        """A key below this prefix."""
        return S3Uri(self.bucket, self.as_prefix().key + relative)


class S3ProblemKind(str, Enum):
    """Why an object could not be read, in the words an operator needs."""

    MISSING = "missing"
    ACCESS_DENIED = "access-denied"
    NO_SUCH_BUCKET = "no-such-bucket"
    INTERRUPTED = "interrupted"
    ERROR = "error"


_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "403", "Forbidden", "AllAccessDisabled"})


@dataclass(frozen=True, slots=True)
class S3Problem:
    """A failed S3 read, ready to show: what, where, and the service's own code and message."""

    kind: S3ProblemKind
    uri: str
    code: str = ""
    detail: str = ""

    @property
    def message(self) -> str:
        """One sentence for the panel."""
        base = {
            S3ProblemKind.MISSING: f"{self.uri} does not exist",
            S3ProblemKind.ACCESS_DENIED: f"Access denied reading {self.uri}",
            S3ProblemKind.NO_SUCH_BUCKET: f"The bucket of {self.uri} does not exist",
            S3ProblemKind.INTERRUPTED: f"Reading {self.uri} was interrupted",
            S3ProblemKind.ERROR: f"Could not read {self.uri}",
        }[self.kind]
        extra = " ".join(part for part in (f"({self.code})" if self.code else "", self.detail) if part)
        return f"{base} {extra}".strip()

    @classmethod
    def from_exception(cls, exc: Exception, uri: str) -> S3Problem:
        """Classify a botocore failure; anything unexpected is ERROR with its text."""
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            detail = str(error.get("Message", "") or "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket":
                return cls(S3ProblemKind.NO_SUCH_BUCKET, uri, code, detail)
            if code in _NOT_FOUND_CODES or (status == 404 and not code):
                return cls(S3ProblemKind.MISSING, uri, code, detail)
            if code in _DENIED_CODES or status == 403:
                return cls(S3ProblemKind.ACCESS_DENIED, uri, code, detail)
            return cls(S3ProblemKind.ERROR, uri, code, detail)
        if isinstance(exc, BotoCoreError):
            return cls(S3ProblemKind.ERROR, uri, type(exc).__name__, str(exc))
        return cls(S3ProblemKind.ERROR, uri, type(exc).__name__, str(exc))


def is_s3_failure(exc: BaseException) -> bool:
    """Exceptions an S3 call raises for a remote or transport problem (not our own bugs)."""
    return isinstance(exc, (ClientError, BotoCoreError, OSError))
