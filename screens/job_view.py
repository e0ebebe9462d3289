"""How an import job's status, duration and counts look (shared by the jobs list and the job detail)."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text

from ahi.services.import_job_list import ImportJob, JobCounts, needs_attention

STATUS_STYLES = {"SUBMITTED": "yellow", "IN_PROGRESS": "yellow", "COMPLETED": "green", "FAILED": "bold red"}
ATTENTION = "⚠"


def job_status_cell(job: ImportJob, counts: JobCounts | None) -> Text:
    """The status; a COMPLETED job with failed files is marked, never shown as clean (nor before its counts are read)."""
    if job.status == "COMPLETED" and counts is None:
        return Text("COMPLETED …", style="dim")
    if job.status == "COMPLETED" and needs_attention(job, counts):
        return Text(f"COMPLETED {ATTENTION}", style="bold yellow")
    return Text(job.status, style=STATUS_STYLES.get(job.status, ""))


def duration_text(duration: timedelta | None) -> str:
    if duration is None:
        return "—"
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def count_text(value: int | None, *, alarm: bool = False) -> Text:
    if value is None:
        return Text("—", style="dim")
    return Text(str(value), style="bold red" if alarm and value else "")

