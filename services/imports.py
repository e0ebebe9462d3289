"""Read an import job's output folder from S3 into a typed report, streaming, without ever raising at the caller.

The job folder is `<outputS3Uri><datastoreId>-DicomImport-<jobId>/` (what GetDICOMImportJob returns as
`outputS3Uri`). Every S3 failure becomes an `S3Problem` on the part it concerns, so a denied failure file
still leaves the manifest and the warnings on screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic

from ahi.services.failure_reasons import FailureGroup, FailureGrouper
from ahi.services.job_output import (
    FailureLine,
    LineSpan,
    LineTally,
    Manifest,
    Record,
    RecordError,
    RecordParser,
    SuccessLine,
    WarningLine,
    parse_ndjson,
)
from ahi.services.s3_location import S3Problem, S3ProblemKind, S3Uri, is_s3_failure

MANIFEST_NAME = "job-output-manifest.json"
SUCCESS_FILE = "SUCCESS/success.ndjson"
FAILURE_FILE = "FAILURE/failure.ndjson"
WARNING_FILE = "WARNING/warning.ndjson"

#: Bytes per read of an ndjson body: large enough that 50,000 lines cost few reads.
CHUNK_SIZE = 256 * 1024
#: Seconds between two progress callbacks (the last one always comes).
PROGRESS_INTERVAL = 0.05


def job_folder_name(datastore_id: str, job_id: str) -> str:
    return f"{datastore_id}-DicomImport-{job_id}/"


@dataclass(frozen=True, slots=True)
class JobFolder:
    """Where one job's outputs live, and the default name of each file in it."""

    uri: S3Uri

    @classmethod
    def for_job(cls, output_s3_uri: str, datastore_id: str, job_id: str) -> JobFolder:
        """The folder from a job's `outputS3Uri`, appending `<ds>-DicomImport-<job>/` unless it is already there.

        GetDICOMImportJob returns the folder itself; the value given to StartDICOMImportJob does not have it.
        """
        uri = S3Uri.parse(output_s3_uri).as_prefix()
        name = job_folder_name(datastore_id, job_id)
        return cls(uri if uri.key.endswith(name) else uri.join(name))

    @property
    def manifest_uri(self) -> S3Uri:
        return self.uri.join(MANIFEST_NAME)

    @property
    def parent_output_uri(self) -> S3Uri:
        """The `outputS3Uri` the job was started with (the folder's parent)."""
        key = self.uri.key.rstrip("/")
        return S3Uri(self.uri.bucket, key.rpartition("/")[0] + "/" if "/" in key else "")

    def section_uri(self, section: Section, manifest: Manifest | None = None) -> S3Uri:
        """The ndjson file of a section: under the manifest's folder URI when it names one, else the default."""
        folder = getattr(manifest, section.manifest_field) if manifest else None
        if folder:
            try:
                return S3Uri.parse(folder).join(section.file_name)
            except ValueError:
                pass
        return self.uri.join(section.default_path)


@dataclass(frozen=True, slots=True)
class Section:
    """One ndjson file of the job folder and how to parse its lines."""

    name: str
    default_path: str
    manifest_field: str
    parse: RecordParser[Any]

    @property
    def file_name(self) -> str:
        return self.default_path.rpartition("/")[2]


SUCCESS = Section("success", SUCCESS_FILE, "success_output_s3_uri", SuccessLine.from_json)
FAILURE = Section("failure", FAILURE_FILE, "failure_output_s3_uri", FailureLine.from_json)
WARNING = Section("warning", WARNING_FILE, "warnings_output_s3_uri", WarningLine.from_json)


@dataclass(frozen=True, slots=True)
class ManifestOutcome:
    """The manifest, or why it is not there: an S3 problem, or content that is not a manifest."""

    uri: S3Uri
    manifest: Manifest | None = None
    problem: S3Problem | None = None
    invalid: str | None = None
    #: The job's status when it was read, if known: a missing manifest means different things per status.
    job_status: str | None = None
    job_message: str | None = None

    @property
    def missing(self) -> bool:
        return self.problem is not None and self.problem.kind is S3ProblemKind.MISSING

    @property
    def not_yet_written(self) -> bool:
        """Missing but still expected: it can appear shortly after COMPLETED (or the job is still running); retry."""
        return self.missing and self.job_status != "FAILED"

    @property
    def message(self) -> str:
        """One sentence for the panel; empty when the manifest was read."""
        if self.manifest is not None:
            return ""
        if self.missing and self.job_status == "FAILED":
            reason = f": {self.job_message}" if self.job_message else "."
            return f"The job FAILED, so no manifest was written{reason}"
        if self.missing and self.job_status in ("SUBMITTED", "IN_PROGRESS"):
            return f"The job is {self.job_status}; its manifest is written when it ends."
        if self.missing:
            return f"The manifest {self.uri} is not written yet (it can appear shortly after COMPLETED); retry."
        if self.problem is not None:
            return self.problem.message
        return f"The manifest {self.uri} is not a job manifest: {self.invalid}"


@dataclass(frozen=True, slots=True)
class ReadProgress:
    """How far a section has been read; `total_bytes` is None until the object's size is known."""

    section: str
    bytes_read: int
    total_bytes: int | None
    lines: int
    malformed: int
    done: bool = False

    @property
    def fraction(self) -> float | None:
        if not self.total_bytes:
            return 1.0 if self.done else None
        return min(1.0, self.bytes_read / self.total_bytes)


ProgressCallback = Callable[[ReadProgress], None]


@dataclass(slots=True)
class SectionResult(Generic[Record]):
    """What one ndjson file yielded: its records (in file order), the tally, and any problem."""

    section: str
    uri: S3Uri
    records: list[Record] = field(default_factory=list)
    tally: LineTally[Record] = field(default_factory=LineTally)
    total_bytes: int | None = None
    problem: S3Problem | None = None

    @property
    def absent(self) -> bool:
        """No file was written. Whether empty folders get one is not documented, so this is not an error."""
        return self.problem is not None and self.problem.kind is S3ProblemKind.MISSING and self.tally.lines == 0

    @property
    def message(self) -> str:
        """A line for the panel: the problem (if any) and the count of malformed lines."""
        parts = []
        if self.absent:
            parts.append(f"No {self.section} file ({self.uri}).")
        elif self.problem is not None:
            read = f" after {self.tally.lines} lines" if self.tally.lines else ""
            parts.append(f"{self.problem.message}{read}.")
        if self.tally.malformed:
            numbers = ", ".join(str(m.span.number) for m in self.tally.malformed[:10])
            more = "…" if len(self.tally.malformed) > 10 else ""
            parts.append(f"{len(self.tally.malformed)} malformed line(s) skipped: {numbers}{more}.")
        return " ".join(parts)


class SectionReader(Generic[Record]):
    """Iterate the records of one ndjson object as it streams in; failures land in `result.problem`, never raised."""

    def __init__(
        self,
        s3: Any,
        section: Section,
        uri: S3Uri,
        on_progress: ProgressCallback | None = None,
        *,
        keep_records: bool = True,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._s3 = s3
        self._section = section
        self._on_progress = on_progress
        self._keep = keep_records
        self._chunk_size = chunk_size
        self.result: SectionResult[Record] = SectionResult(section.name, uri)

    def __iter__(self) -> Iterator[Record]:
        result = self.result
        body = None
        try:
            response = self._s3.get_object(Bucket=result.uri.bucket, Key=result.uri.key)
            body = response["Body"]
            result.total_bytes = response.get("ContentLength")
            self._report(force=True)
            lines = body.iter_lines(chunk_size=self._chunk_size, keepends=True)
            for record in parse_ndjson(lines, self._section.parse, result.tally):
                if self._keep:
                    result.records.append(record)
                yield record
                self._report()
        except Exception as exc:  # noqa: BLE001 - every transport failure becomes a typed problem
            if not is_s3_failure(exc):
                raise
            problem = S3Problem.from_exception(exc, str(result.uri))
            if result.tally.lines and problem.kind is S3ProblemKind.ERROR:
                problem = S3Problem(S3ProblemKind.INTERRUPTED, problem.uri, problem.code, problem.detail)
            result.problem = problem
        finally:
            if body is not None:
                body.close()
        self._report(force=True, done=True)

    _last_report = 0.0

    def _report(self, *, force: bool = False, done: bool = False) -> None:
        if self._on_progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_report < PROGRESS_INTERVAL:
            return
        self._last_report = now
        tally = self.result.tally
        self._on_progress(
            ReadProgress(
                section=self._section.name,
                bytes_read=tally.bytes_read,
                total_bytes=self.result.total_bytes,
                lines=tally.lines,
                malformed=len(tally.malformed),
                done=done,
            )
        )

    def read_all(self) -> SectionResult[Record]:
        """Consume the stream and return the result."""
        for _ in self:
            pass
        return self.result


@dataclass(slots=True)
class JobReport:
    """Everything read from a job folder; each part carries its own problem, if any."""

    folder: JobFolder
    manifest: ManifestOutcome
    failures: SectionResult[FailureLine]
    groups: list[FailureGroup]
    warnings: SectionResult[WarningLine]
    successes: SectionResult[SuccessLine]

    @property
    def failed_files(self) -> int:
        """Failed files per the manifest, else per the failure file."""
        counted = self.manifest.manifest.failed_files if self.manifest.manifest else None
        return counted if counted is not None else len(self.failures.records)

    @property
    def needs_attention(self) -> bool:
        """Something failed or could not be read: never show such a job as clean."""
        return bool(
            self.failed_files
            or self.manifest.job_status == "FAILED"
            or self.manifest.manifest is None
            or self.failures.tally.malformed
            or (self.failures.problem and not self.failures.absent)
        )


class JobFolderReader:
    """Reads a job folder step by step, so a screen can show each part as soon as it is ready."""

    def __init__(
        self, s3: Any, folder: JobFolder, job_status: str | None = None, job_message: str | None = None
    ) -> None:
        self.s3 = s3
        self.folder = folder
        self.job_status = job_status
        self.job_message = job_message
        self.manifest: ManifestOutcome | None = None

    @classmethod
    def for_job(cls, s3: Any, job_properties: Mapping[str, Any]) -> JobFolderReader:
        """A reader of the folder of a job given its GetDICOMImportJob `jobProperties`."""
        folder = JobFolder.for_job(job_properties["outputS3Uri"], job_properties["datastoreId"], job_properties["jobId"])
        return cls(s3, folder, job_properties.get("jobStatus"), job_properties.get("message"))

    def read_manifest(self) -> ManifestOutcome:
        uri = self.folder.manifest_uri
        status = {"job_status": self.job_status, "job_message": self.job_message}
        data = get_bytes(self.s3, uri)
        if isinstance(data, S3Problem):
            self.manifest = ManifestOutcome(uri, problem=data, **status)
            return self.manifest
        try:
            self.manifest = ManifestOutcome(uri, manifest=Manifest.from_bytes(data), **status)
        except RecordError as exc:
            self.manifest = ManifestOutcome(uri, invalid=str(exc), **status)
        return self.manifest

    def section_uri(self, section: Section) -> S3Uri:
        manifest = self.manifest.manifest if self.manifest else None
        return self.folder.section_uri(section, manifest)

    def reader(self, section: Section, on_progress: ProgressCallback | None = None) -> SectionReader[Any]:
        """A streaming reader of one section; iterate it to get records as they arrive."""
        return SectionReader(self.s3, section, self.section_uri(section), on_progress)

    def read_failures(
        self, on_progress: ProgressCallback | None = None, grouper: FailureGrouper | None = None
    ) -> tuple[SectionResult[FailureLine], FailureGrouper]:
        """Stream the failure file into groups (into `grouper` when given, so a caller can watch it fill)."""
        grouper = grouper if grouper is not None else FailureGrouper()
        reader: SectionReader[FailureLine] = self.reader(FAILURE, on_progress)
        for failure in reader:
            grouper.add(failure)
        return reader.result, grouper

    def read_section(self, section: Section, on_progress: ProgressCallback | None = None) -> SectionResult[Any]:
        return self.reader(section, on_progress).read_all()

    def read_all(self, on_progress: ProgressCallback | None = None) -> JobReport:
        """Manifest first (it locates the rest), then failures (what triage needs), warnings and successes."""
        manifest = self.read_manifest()
        failures, grouper = self.read_failures(on_progress)
        return JobReport(
            folder=self.folder,
            manifest=manifest,
            failures=failures,
            groups=grouper.groups(),
            warnings=self.read_section(WARNING, on_progress),
            successes=self.read_section(SUCCESS, on_progress),
        )


def read_job_report(
    s3: Any, job_properties: Mapping[str, Any], on_progress: ProgressCallback | None = None
) -> JobReport:
    """The whole report of a job given its GetDICOMImportJob `jobProperties`."""
    return JobFolderReader.for_job(s3, job_properties).read_all(on_progress)


def get_bytes(s3: Any, uri: S3Uri, **extra: Any) -> bytes | S3Problem:
    """A whole (small) object, or the typed reason it could not be read."""
    try:
        body = s3.get_object(Bucket=uri.bucket, Key=uri.key, **extra)["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()
    except Exception as exc:  # noqa: BLE001 - every transport failure becomes a typed problem
        if not is_s3_failure(exc):
            raise
        return S3Problem.from_exception(exc, str(uri))


def fetch_raw_line(s3: Any, uri: S3Uri, span: LineSpan) -> str | S3Problem:
    """The exact text of one ndjson line, fetched again by byte range (lines are not kept in memory)."""
    if span.length == 0:
        return ""
    data = get_bytes(s3, uri, Range=f"bytes={span.offset}-{span.offset + span.length - 1}")
    return data if isinstance(data, S3Problem) else data.decode("utf-8", errors="replace").rstrip("\r\n")
