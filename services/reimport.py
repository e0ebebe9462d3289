"""Re-import the failed files of a job: copy just those objects to a new prefix next to the input, start a new job.

Two steps so the console can confirm in between: `plan_reimport` says how many files go from where to
where; `run_reimport` copies them and starts the job with the same role and output location.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ahi.services.imports import JobFolder
from ahi.services.input_objects import input_key
from ahi.services.s3_location import S3Problem, S3Uri, is_s3_failure

COPY_CONCURRENCY = 8
JOB_NAME_MAX = 64
_JOB_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._/#-]")


@dataclass(frozen=True, slots=True)
class CopyItem:
    """One object to copy: `source` key in the input bucket, `target` key below the new prefix."""

    input_file: str
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class ReimportPlan:
    """Everything the confirmation needs to say, and everything `run_reimport` needs to do."""

    source_prefix: S3Uri
    target_prefix: S3Uri
    items: tuple[CopyItem, ...]
    datastore_id: str
    role_arn: str
    output_s3_uri: str
    job_name: str

    @property
    def file_count(self) -> int:
        return len(self.items)

    @property
    def summary(self) -> str:
        """The confirmation sentence."""
        return (
            f"Copy {self.file_count} failed file(s) from {self.source_prefix} to {self.target_prefix} "
            f"and start import job {self.job_name!r} into data store {self.datastore_id} "
            f"(role {self.role_arn}, output {self.output_s3_uri})?"
        )


@dataclass(slots=True)
class ReimportResult:
    """What happened: copies made, copies that failed, and the new job (None when nothing could be copied)."""

    plan: ReimportPlan
    copied: list[CopyItem] = field(default_factory=list)
    copy_failures: list[tuple[CopyItem, S3Problem]] = field(default_factory=list)
    job: Mapping[str, Any] | None = None
    start_error: str | None = None

    @property
    def job_id(self) -> str | None:
        return self.job["jobId"] if self.job else None


def reimport_prefix(input_uri: S3Uri, now: datetime | None = None) -> S3Uri:
    """`<parent>/<name>-reimport-<UTC timestamp>/` beside the input prefix (`reimport-<ts>/` for a bucket root)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    key = input_uri.as_prefix().key.rstrip("/")
    parent, _, name = key.rpartition("/")
    new_name = f"{name}-reimport-{stamp}" if name else f"reimport-{stamp}"
    return S3Uri(input_uri.bucket, f"{parent}/{new_name}/" if parent else f"{new_name}/")


def reimport_job_name(original: str | None, now: datetime | None = None) -> str:
    """A valid job name derived from the original one (model: 1-64 chars of `[A-Za-z0-9._/#-]`)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    suffix = f"-reimport-{stamp}"
    base = _JOB_NAME_UNSAFE.sub("-", original or "job")
    return base[: JOB_NAME_MAX - len(suffix)] + suffix


def plan_reimport(
    job_properties: Mapping[str, Any], input_files: Iterable[str], now: datetime | None = None
) -> ReimportPlan:
    """The plan for re-importing `input_files` of the job described by GetDICOMImportJob's `jobProperties`.

    Relative paths below the input prefix are kept; a file outside it keeps its whole key.
    """
    source = S3Uri.parse(job_properties["inputS3Uri"]).as_prefix()
    target = reimport_prefix(source, now)
    items = []
    for input_file in dict.fromkeys(input_files):
        key = input_key(source, input_file)
        items.append(CopyItem(input_file, key, target.key + key[len(source.key) :]))
    folder = JobFolder.for_job(job_properties["outputS3Uri"], job_properties["datastoreId"], job_properties["jobId"])
    return ReimportPlan(
        source_prefix=source,
        target_prefix=target,
        items=tuple(items),
        datastore_id=job_properties["datastoreId"],
        role_arn=job_properties["dataAccessRoleArn"],
        output_s3_uri=str(folder.parent_output_uri),
        job_name=reimport_job_name(job_properties.get("jobName"), now),
    )


def run_reimport(
    s3: Any,
    medical_imaging: Any,
    plan: ReimportPlan,
    on_copied: Callable[[int, int], None] | None = None,
    client_token: str | None = None,
) -> ReimportResult:
    """Copy the planned objects (in parallel), then start the new job on what was copied; never raises for AWS errors."""
    result = ReimportResult(plan)
    bucket = plan.source_prefix.bucket

    def copy(item: CopyItem) -> S3Problem | None:
        try:
            s3.copy_object(
                Bucket=plan.target_prefix.bucket,
                Key=item.target,
                CopySource={"Bucket": bucket, "Key": item.source},
            )
        except Exception as exc:  # noqa: BLE001
            if not is_s3_failure(exc):
                raise
            return S3Problem.from_exception(exc, f"s3://{bucket}/{item.source}")
        return None

    with ThreadPoolExecutor(max_workers=COPY_CONCURRENCY) as pool:
        for done, (item, problem) in enumerate(zip(plan.items, pool.map(copy, plan.items)), start=1):
            if problem is None:
                result.copied.append(item)
            else:
                result.copy_failures.append((item, problem))
            if on_copied is not None:
                on_copied(done, plan.file_count)
    if not result.copied:
        result.start_error = "No file could be copied, so no job was started."
        return result
    try:
        response = medical_imaging.start_dicom_import_job(
            jobName=plan.job_name,
            datastoreId=plan.datastore_id,
            dataAccessRoleArn=plan.role_arn,
            inputS3Uri=str(plan.target_prefix),
            outputS3Uri=plan.output_s3_uri,
            clientToken=client_token or uuid.uuid4().hex,
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        result.start_error = f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
        return result
    except BotoCoreError as exc:
        result.start_error = str(exc)
        return result
    result.job = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    return result
