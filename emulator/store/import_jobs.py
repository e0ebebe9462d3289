"""Import job rows and the per-file record a job keeps while it runs."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

UNFINISHED = ("SUBMITTED", "IN_PROGRESS")


@dataclass(frozen=True)
class ImportJob:
    """An import job as GetDICOMImportJob describes it (outputS3Uri is already the job folder)."""

    seq: int
    job_id: str
    datastore_id: str
    account_id: str
    region: str
    job_name: str
    status: str
    data_access_role_arn: str
    input_s3_uri: str
    output_s3_uri: str
    input_owner_account_id: str | None
    submitted_at: float
    started_at: float | None
    ended_at: float | None
    message: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ImportJob:
        return cls(**{name: row[name] for name in row.keys()})


@dataclass(frozen=True)
class FileRecord:
    """What became of one input file."""

    input_file: str
    outcome: str
    image_set_id: str | None
    customer_error: bool
    detail: Any


def insert_job(tx: sqlite3.Connection, job: ImportJob) -> None:
    """A new SUBMITTED job."""
    tx.execute(
        "INSERT INTO import_jobs (job_id, datastore_id, account_id, region, job_name, status,"
        " data_access_role_arn, input_s3_uri, output_s3_uri, input_owner_account_id, submitted_at)"
        " VALUES (?, ?, ?, ?, ?, 'SUBMITTED', ?, ?, ?, ?, ?)",
        (
            job.job_id,
            job.datastore_id,
            job.account_id,
            job.region,
            job.job_name,
            job.data_access_role_arn,
            job.input_s3_uri,
            job.output_s3_uri,
            job.input_owner_account_id,
            job.submitted_at,
        ),
    )


def get_job(conn: sqlite3.Connection, job_id: str) -> ImportJob | None:
    """A job by id, whoever owns it (callers check account, region and data store)."""
    row = conn.execute("SELECT * FROM import_jobs WHERE job_id = ?", (job_id,)).fetchone()
    return None if row is None else ImportJob.from_row(row)


def list_jobs(
    conn: sqlite3.Connection, datastore_id: str, *, status: str | None, before_seq: int | None, limit: int
) -> list[ImportJob]:
    """A data store's jobs, newest first, optionally in one status, below `before_seq` when paging on."""
    rows = conn.execute(
        "SELECT * FROM import_jobs WHERE datastore_id = :datastore AND (:status IS NULL OR status = :status)"
        " AND (:before IS NULL OR seq < :before) ORDER BY seq DESC LIMIT :limit",
        {"datastore": datastore_id, "status": status, "before": before_seq, "limit": limit},
    ).fetchall()
    return [ImportJob.from_row(row) for row in rows]


def unfinished_jobs(conn: sqlite3.Connection) -> list[ImportJob]:
    """Jobs a restart interrupted, oldest first."""
    rows = conn.execute("SELECT * FROM import_jobs WHERE status IN (?, ?) ORDER BY seq", UNFINISHED).fetchall()
    return [ImportJob.from_row(row) for row in rows]


def count_unfinished(conn: sqlite3.Connection, datastore_id: str) -> int:
    """How many of a data store's jobs are SUBMITTED or IN_PROGRESS."""
    row = conn.execute(
        "SELECT COUNT(*) FROM import_jobs WHERE datastore_id = ? AND status IN (?, ?)", (datastore_id, *UNFINISHED)
    ).fetchone()
    return int(row[0])


def mark_started(tx: sqlite3.Connection, job_id: str, now: float) -> None:
    """SUBMITTED -> IN_PROGRESS (a resumed job keeps its first start time)."""
    tx.execute(
        "UPDATE import_jobs SET status = 'IN_PROGRESS', started_at = COALESCE(started_at, ?) WHERE job_id = ?",
        (now, job_id),
    )


def mark_ended(tx: sqlite3.Connection, job_id: str, status: str, now: float, message: str | None) -> None:
    """Move a job to COMPLETED or FAILED."""
    tx.execute(
        "UPDATE import_jobs SET status = ?, ended_at = ?, message = ? WHERE job_id = ?",
        (status, now, message, job_id),
    )


def record_files(tx: sqlite3.Connection, job_id: str, records: list[FileRecord]) -> None:
    """Remember the outcome of some input files."""
    tx.executemany(
        "INSERT OR REPLACE INTO import_job_files (job_id, input_file, outcome, image_set_id, customer_error, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                job_id,
                record.input_file,
                record.outcome,
                record.image_set_id,
                int(record.customer_error),
                None if record.detail is None else json.dumps(record.detail, separators=(",", ":")),
            )
            for record in records
        ],
    )


def file_records(conn: sqlite3.Connection, job_id: str) -> list[FileRecord]:
    """Every recorded input file of a job, by key."""
    rows = conn.execute(
        "SELECT input_file, outcome, image_set_id, customer_error, detail FROM import_job_files"
        " WHERE job_id = ? ORDER BY input_file",
        (job_id,),
    ).fetchall()
    return [
        FileRecord(
            input_file=row["input_file"],
            outcome=row["outcome"],
            image_set_id=row["image_set_id"],
            customer_error=bool(row["customer_error"]),
            detail=None if row["detail"] is None else json.loads(row["detail"]),
        )
        for row in rows
    ]
