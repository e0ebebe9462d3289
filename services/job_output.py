"""Typed records of an import job's output folder (manifest, success, failure and warning ndjson), parsed from bytes.

The field names follow the developer guide's examples; any field we do not know is kept in `extras`
so a newer service version never loses information on its way to the screen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

#: Shared empty mapping: most lines have no extra fields, and one dict per line would cost memory.
NO_EXTRAS: Mapping[str, Any] = MappingProxyType({})

#: How much of a malformed line is kept for display.
MALFORMED_EXCERPT_CHARS = 200


class RecordError(ValueError):
    """A line is valid JSON but not the shape of its file (e.g. no `inputFile`)."""


def _no_extras() -> Any:
    """A dataclass field defaulting to the shared empty mapping (a mapping default must go through a factory)."""
    return field(default_factory=lambda: NO_EXTRAS)


def _extras(obj: Mapping[str, Any], known: frozenset[str]) -> Mapping[str, Any]:
    """The members of `obj` not in `known`, or the shared empty mapping."""
    if obj.keys() <= known:
        return NO_EXTRAS
    return MappingProxyType({k: v for k, v in obj.items() if k not in known})


def _object(value: Any, what: str) -> Mapping[str, Any]:
    """`value` as a JSON object, or a RecordError naming `what`."""
    if not isinstance(value, dict):
        raise RecordError(f"{what} is not a JSON object")
    return value


def _opt_int(value: Any) -> int | None:
    """An int field that may be absent; bools and other types are treated as absent."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _input_file(obj: Mapping[str, Any]) -> str:
    value = obj.get("inputFile")
    if not isinstance(value, str):
        raise RecordError("missing string field inputFile")
    return value


# --- manifest -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageSetSummary:
    """One generated image set, from `jobSummary.imageSetsSummary[]`."""

    image_set_id: str
    matched_instances: int | None = None
    image_set_version: int | None = None
    is_primary: bool | None = None
    extras: Mapping[str, Any] = _no_extras()

    KNOWN = frozenset({"imageSetId", "numberOfMatchedSOPInstances", "imageSetVersion", "isPrimary"})

    @classmethod
    def from_json(cls, obj: Any) -> ImageSetSummary:
        obj = _object(obj, "imageSetsSummary entry")
        image_set_id = obj.get("imageSetId")
        if not isinstance(image_set_id, str):
            raise RecordError("imageSetsSummary entry has no string imageSetId")
        return cls(
            image_set_id=image_set_id,
            matched_instances=_opt_int(obj.get("numberOfMatchedSOPInstances")),
            image_set_version=_opt_int(obj.get("imageSetVersion")),
            is_primary=_opt_bool(obj.get("isPrimary")),
            extras=_extras(obj, cls.KNOWN),
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """`job-output-manifest.json`: the job's counts and the image sets it generated."""

    job_id: str | None = None
    datastore_id: str | None = None
    input_s3_uri: str | None = None
    output_s3_uri: str | None = None
    success_output_s3_uri: str | None = None
    failure_output_s3_uri: str | None = None
    warnings_output_s3_uri: str | None = None
    scanned_files: int | None = None
    imported_files: int | None = None
    files_with_customer_error: int | None = None
    files_with_server_error: int | None = None
    generated_image_sets: int | None = None
    image_sets: tuple[ImageSetSummary, ...] = ()
    #: Unknown members of `jobSummary`.
    extras: Mapping[str, Any] = _no_extras()
    #: Unknown top-level members (next to `jobSummary`).
    top_level_extras: Mapping[str, Any] = _no_extras()

    KNOWN = frozenset(
        {
            "jobId", "datastoreId", "inputS3Uri", "outputS3Uri", "successOutputS3Uri", "failureOutputS3Uri",
            "warningsOutputS3Uri", "numberOfScannedFiles", "numberOfImportedFiles",
            "numberOfFilesWithCustomerError", "numberOfFilesWithServerError", "numberOfGeneratedImageSets",
            "imageSetsSummary",
        }
    )  # fmt: skip

    @property
    def failed_files(self) -> int | None:
        """Customer plus server errors; None when the manifest gives neither."""
        counts = [c for c in (self.files_with_customer_error, self.files_with_server_error) if c is not None]
        return sum(counts) if counts else None

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse the manifest; raises RecordError (or ValueError for bad JSON) when it is not one."""
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RecordError(f"manifest is not valid JSON: {exc}") from exc
        document = _object(document, "manifest")
        summary = _object(document.get("jobSummary"), "jobSummary")
        entries = summary.get("imageSetsSummary")
        entries = [] if entries is None else entries
        if not isinstance(entries, list):
            raise RecordError("jobSummary.imageSetsSummary is not a list")
        return cls(
            job_id=_opt_str(summary.get("jobId")),
            datastore_id=_opt_str(summary.get("datastoreId")),
            input_s3_uri=_opt_str(summary.get("inputS3Uri")),
            output_s3_uri=_opt_str(summary.get("outputS3Uri")),
            success_output_s3_uri=_opt_str(summary.get("successOutputS3Uri")),
            failure_output_s3_uri=_opt_str(summary.get("failureOutputS3Uri")),
            warnings_output_s3_uri=_opt_str(summary.get("warningsOutputS3Uri")),
            scanned_files=_opt_int(summary.get("numberOfScannedFiles")),
            imported_files=_opt_int(summary.get("numberOfImportedFiles")),
            files_with_customer_error=_opt_int(summary.get("numberOfFilesWithCustomerError")),
            files_with_server_error=_opt_int(summary.get("numberOfFilesWithServerError")),
            generated_image_sets=_opt_int(summary.get("numberOfGeneratedImageSets")),
            image_sets=tuple(ImageSetSummary.from_json(e) for e in entries),
            extras=_extras(summary, cls.KNOWN),
            top_level_extras=_extras(document, frozenset({"jobSummary"})),
        )


# --- ndjson lines ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineSpan:
    """Where a line sits in its object, so the raw text can be fetched again with a ranged GET."""

    number: int
    offset: int
    length: int


def _imported_file(obj: Any, response_known: frozenset[str]) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """The fields a success and a warning line share, and the `importResponse` object itself."""
    obj = _object(obj, "line")
    response = _object(obj.get("importResponse", {}), "importResponse")
    fields = {
        "input_file": _input_file(obj),
        "image_set_id": _opt_str(response.get("imageSetId")),
        "image_set_version": _opt_int(response.get("imageSetVersion")),
        "is_primary": _opt_bool(response.get("isPrimary")),
        "extras": _extras(obj, IMPORTED_KNOWN),
        "response_extras": _extras(response, response_known),
    }
    return fields, response


#: Top-level members of a success or warning line.
IMPORTED_KNOWN = frozenset({"inputFile", "importResponse"})


@dataclass(frozen=True, slots=True)
class SuccessLine:
    """A file that was imported: `{"inputFile", "importResponse": {"imageSetId", ...}}`."""

    span: LineSpan
    input_file: str
    image_set_id: str | None
    image_set_version: int | None = None
    is_primary: bool | None = None
    extras: Mapping[str, Any] = _no_extras()
    response_extras: Mapping[str, Any] = _no_extras()

    RESPONSE_KNOWN = frozenset({"imageSetId", "imageSetVersion", "isPrimary"})

    @classmethod
    def from_json(cls, obj: Any, span: LineSpan) -> SuccessLine:
        fields, _ = _imported_file(obj, cls.RESPONSE_KNOWN)
        return cls(span=span, **fields)


@dataclass(frozen=True, slots=True)
class FailureLine:
    """A file that failed: `{"inputFile", "exception": {"exceptionType", "message"}}`."""

    span: LineSpan
    input_file: str
    exception_type: str
    message: str
    extras: Mapping[str, Any] = _no_extras()
    exception_extras: Mapping[str, Any] = _no_extras()

    KNOWN = frozenset({"inputFile", "exception"})
    EXCEPTION_KNOWN = frozenset({"exceptionType", "message"})

    @classmethod
    def from_json(cls, obj: Any, span: LineSpan) -> FailureLine:
        obj = _object(obj, "line")
        exception = _object(obj.get("exception", {}), "exception")
        return cls(
            span=span,
            input_file=_input_file(obj),
            exception_type=_opt_str(exception.get("exceptionType")) or "UnknownException",
            message=_opt_str(exception.get("message")) or "",
            extras=_extras(obj, cls.KNOWN),
            exception_extras=_extras(exception, cls.EXCEPTION_KNOWN),
        )


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """One entry of `importResponse.warnings[]`."""

    reason_code: int | None
    type: str | None
    message: str
    extras: Mapping[str, Any] = _no_extras()

    KNOWN = frozenset({"warning_reason_code", "type", "message"})

    @classmethod
    def from_json(cls, obj: Any) -> ImportWarning:
        obj = _object(obj, "warning")
        return cls(
            reason_code=_opt_int(obj.get("warning_reason_code")),
            type=_opt_str(obj.get("type")),
            message=_opt_str(obj.get("message")) or "",
            extras=_extras(obj, cls.KNOWN),
        )


@dataclass(frozen=True, slots=True)
class WarningLine:
    """A file imported with warnings: a success line whose `importResponse` carries `warnings[]`."""

    span: LineSpan
    input_file: str
    image_set_id: str | None
    warnings: tuple[ImportWarning, ...]
    image_set_version: int | None = None
    is_primary: bool | None = None
    extras: Mapping[str, Any] = _no_extras()
    response_extras: Mapping[str, Any] = _no_extras()

    RESPONSE_KNOWN = frozenset({"imageSetId", "imageSetVersion", "isPrimary", "warnings"})

    @classmethod
    def from_json(cls, obj: Any, span: LineSpan) -> WarningLine:
        fields, response = _imported_file(obj, cls.RESPONSE_KNOWN)
        warnings = response.get("warnings")
        warnings = [] if warnings is None else warnings
        if not isinstance(warnings, list):
            raise RecordError("importResponse.warnings is not a list")
        return cls(span=span, warnings=tuple(ImportWarning.from_json(w) for w in warnings), **fields)


@dataclass(frozen=True, slots=True)
class MalformedLine:
    """A line that could not be read as a record; reported, never fatal."""

    span: LineSpan
    reason: str
    excerpt: str


Record = TypeVar("Record", SuccessLine, FailureLine, WarningLine)
RecordParser = Callable[[Any, LineSpan], Record]


@dataclass(slots=True)
class LineTally(Generic[Record]):
    """Running totals of one ndjson stream: bytes and lines seen, malformed lines kept."""

    bytes_read: int = 0
    lines: int = 0
    records: int = 0
    blank_lines: int = 0
    malformed: list[MalformedLine] = field(default_factory=list)


def parse_ndjson(
    raw_lines: Iterable[bytes],
    parse: RecordParser[Record],
    tally: LineTally[Record] | None = None,
) -> Iterator[Record]:
    """Yield one record per well-formed line of `raw_lines` (lines *with* their endings), counting into `tally`.

    Malformed lines (bad UTF-8, bad JSON, wrong shape) go to `tally.malformed` with their line number;
    blank lines are skipped. Nothing is accumulated besides those, so memory stays flat.
    """
    tally = tally if tally is not None else LineTally()
    offset = tally.bytes_read
    for number, raw in enumerate(raw_lines, start=tally.lines + 1):
        span = LineSpan(number=number, offset=offset, length=len(raw))
        offset += len(raw)
        tally.bytes_read = offset
        tally.lines = number
        text = raw.strip()
        if not text:
            tally.blank_lines += 1
            continue
        try:
            record = parse(json.loads(text.decode("utf-8")), span)
        except (UnicodeDecodeError, json.JSONDecodeError, RecordError) as exc:
            excerpt = text[:MALFORMED_EXCERPT_CHARS].decode("utf-8", errors="replace")
            tally.malformed.append(MalformedLine(span=span, reason=_reason(exc), excerpt=excerpt))
            continue
        tally.records += 1
        yield record


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} at column {exc.colno}"
    return str(exc)


def split_lines(data: bytes) -> list[bytes]:
    """`data` cut into lines that keep their endings (what `StreamingBody.iter_lines(keepends=True)` yields)."""
    return data.splitlines(keepends=True)
