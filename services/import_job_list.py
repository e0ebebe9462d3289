"""Import jobs across data stores for the jobs screen, with file counts read from each ended job's manifest.

ListDICOMImportJobs carries no S3 URIs, so counts need GetDICOMImportJob and the manifest; both are
immutable once a job has ended, so each job's counts are read once and remembered (a missing
manifest is not remembered: it can still appear).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from ahi.services.backoff import Backoff
from ahi.services.datastores import Datastore
from ahi.services.errors import AwsCallError
from ahi.services.import_form import StartImportForm
from ahi.services.imports import JobFolderReader

ACTIVE_STATUSES = frozenset({"SUBMITTED", "IN_PROGRESS"})
#: Data stores listed at once, and manifests read at once.
LIST_CONCURRENCY = 4
COUNT_CONCURRENCY = 6
#: Manifests read per refresh at most, so a first look at hundreds of old jobs stays quick.
COUNTS_PER_REFRESH = 30


@dataclass(frozen=True)
class ImportJob:
    """One import job as the console shows it; `raw` is the API response it came from."""

    id: str
    name: str
    status: str
    datastore_id: str
    datastore_name: str = ""
    submitted_at: datetime | None = None
    ended_at: datetime | None = None
    message: str | None = None
    role_arn: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, summary: Mapping[str, Any], datastore_name: str = "") -> ImportJob:
        """From a ListDICOMImportJobs summary or GetDICOMImportJob's `jobProperties`."""
        return cls(
            id=summary["jobId"],
            name=summary.get("jobName") or "",
            status=summary["jobStatus"],
            datastore_id=summary["datastoreId"],
            datastore_name=datastore_name,
            submitted_at=summary.get("submittedAt"),
            ended_at=summary.get("endedAt"),
            message=summary.get("message"),
            role_arn=summary.get("dataAccessRoleArn"),
            raw=dict(summary),
        )

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration(self) -> timedelta | None:
        if self.submitted_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.submitted_at


@dataclass(frozen=True)
class JobCounts:
    """Files scanned, imported and failed per the manifest; `problem` when it could not be read."""

    scanned: int | None = None
    imported: int | None = None
    failed: int | None = None
    problem: str | None = None

    @property
    def needs_attention(self) -> bool:
        return bool(self.failed) or self.problem is not None


@dataclass
class JobListing:
    """One refresh: the jobs (newest first), the counts known so far, and the stores that could not be listed."""

    jobs: list[ImportJob]
    counts: dict[str, JobCounts]
    errors: list[AwsCallError] = field(default_factory=list)


def needs_attention(job: ImportJob, counts: JobCounts | None) -> bool:
    """FAILED, or COMPLETED with failed files (or an unreadable manifest): never shown as clean."""
    return job.status == "FAILED" or (job.status == "COMPLETED" and counts is not None and counts.needs_attention)


class ImportJobService:
    """Import job calls for the console on one medical-imaging and one S3 client."""

    def __init__(self, medical_imaging: Any, s3: Any, backoff: Backoff | None = None) -> None:
        self.client = medical_imaging
        self.s3 = s3
        self.backoff = backoff or Backoff()
        self._counts: dict[str, JobCounts] = {}
        self._lock = threading.Lock()

    def list_for(self, datastore: Datastore) -> list[ImportJob]:
        """Every job of one data store across all pages."""

        def fetch() -> list[ImportJob]:
            pages = self.client.get_paginator("list_dicom_import_jobs").paginate(datastoreId=datastore.id)
            return [ImportJob.from_api(s, datastore.name) for page in pages for s in page.get("jobSummaries", [])]

        return self.backoff.call("ListDICOMImportJobs", fetch)

    def listing(self, datastores: list[Datastore]) -> JobListing:
        """Jobs of every given store (a store that cannot be listed becomes an error), newest first, with counts."""
        jobs: list[ImportJob] = []
        errors: list[AwsCallError] = []

        def one(store: Datastore) -> list[ImportJob] | AwsCallError:
            try:
                return self.list_for(store)
            except AwsCallError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=LIST_CONCURRENCY) as pool:
            for result in pool.map(one, datastores):
                if isinstance(result, AwsCallError):
                    errors.append(result)
                else:
                    jobs += result
        jobs.sort(key=lambda job: job.submitted_at.timestamp() if job.submitted_at else 0.0, reverse=True)
        return JobListing(jobs, self.counts(jobs), errors)

    def get(self, datastore_id: str, job_id: str, datastore_name: str = "") -> ImportJob:
        response = self.backoff.call(
            "GetDICOMImportJob", lambda: self.client.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)
        )
        return ImportJob.from_api(response["jobProperties"], datastore_name)

    def counts(self, jobs: list[ImportJob], limit: int | None = None) -> dict[str, JobCounts]:
        """Counts of the COMPLETED jobs: remembered ones at once, up to `limit` new ones read now."""
        limit = COUNTS_PER_REFRESH if limit is None else limit
        with self._lock:
            known = {job.id: self._counts[job.id] for job in jobs if job.id in self._counts}
        todo = [job for job in jobs if job.status == "COMPLETED" and job.id not in known][:limit]
        if todo:
            with ThreadPoolExecutor(max_workers=COUNT_CONCURRENCY) as pool:
                for job, counts in zip(todo, pool.map(self._read_counts, todo)):
                    known[job.id] = counts
        return known

    def _read_counts(self, job: ImportJob) -> JobCounts:
        try:
            properties = job.raw if "outputS3Uri" in job.raw else self.get(job.datastore_id, job.id).raw
        except AwsCallError as exc:
            return JobCounts(problem=f"{exc.operation}: {exc.code}")
        outcome = JobFolderReader.for_job(self.s3, properties).read_manifest()
        if outcome.manifest is None:
            return JobCounts(problem=outcome.message)
        manifest = outcome.manifest
        counts = JobCounts(manifest.scanned_files, manifest.imported_files, manifest.failed_files)
        with self._lock:
            self._counts[job.id] = counts
        return counts

    def start(self, form: StartImportForm) -> ImportJob:
        """StartDICOMImportJob with a form that passed validation; the new job as SUBMITTED."""
        response = self.backoff.call("StartDICOMImportJob", lambda: self.client.start_dicom_import_job(**form.request()))
        return ImportJob.from_api(
            {"jobName": form.job_name, "dataAccessRoleArn": form.role_arn, **response,
             "inputS3Uri": form.input_s3_uri}  # fmt: skip
        )
