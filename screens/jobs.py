"""The import jobs screen: every job of every data store (or of one), status filters, attention marks.

Refreshes every refresh interval whether or not a job runs (a job started with the AWS CLI or the SDK
appears within one interval), and announces every status change it sees. A job started here shows at
once, even where the status view would hide it. Counts come from each ended job's manifest, read once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from textual import on
from textual.widget import Widget
from textual.widgets import DataTable

from ahi.screens.import_start import start_import
from ahi.screens.job_detail import JobDetailScreen
from ahi.screens.job_view import count_text, duration_text, job_status_cell
from ahi.services.import_form import StartImportForm
from ahi.services.import_job_list import ImportJob, JobCounts, JobListing, needs_attention
from ahi.tui.actions import REGISTRY, Action, mutating
from ahi.tui.screen_base import AhiScreen
from ahi.tui.widgets.error_panel import ErrorPanel
from ahi.tui.widgets.resource_table import Column, ResourceTable, Row

SCOPE = "jobs"
REGISTRY.register(
    Action("jobs.open", "open", "enter", "Open job", SCOPE, footer=False),
    Action("jobs.failed", "show_failed", "f", "Failed / attention", SCOPE, command="failed"),
    Action("jobs.in_progress", "show_in_progress", "i", "In progress", SCOPE, command="running"),
    Action("jobs.all", "show_all", "a", "All jobs", SCOPE, command="all"),
    Action("jobs.start", "start_import", "n", "Start import job", SCOPE, mutates=True, command="import"),
)

#: What triage needs first (status and failed count) comes first, so it shows even at 80 columns.
COLUMNS = (
    Column("name", "job name"),
    Column("status", "status", 12),
    Column("failed", "failed", 6),
    Column("imported", "imported", 8),
    Column("scanned", "scanned", 7),
    Column("datastore", "data store"),
    Column("submitted", "submitted", 19),
    Column("ended", "ended", 19),
    Column("duration", "duration", 12),
    Column("id", "job ID", 32),
)

#: Seconds until the next refresh while some COMPLETED jobs still have no counts.
COUNTS_FOLLOW_UP_S = 1.0

#: Status filter -> which jobs it keeps.
VIEWS = {
    "all": lambda job, counts: True,
    "failed": needs_attention,
    "in progress": lambda job, counts: job.active,
}



def _is_datastore_id(text: str) -> bool:
    return len(text) == 32 and text.isalnum() and text == text.lower()


class JobsScreen(AhiScreen):
    """`:jobs` (every data store), `:jobs DATASTORE_ID` (one), `:jobs failed|running` (a status view)."""

    CSS_PATH = "jobs.tcss"
    SCOPE = SCOPE
    FETCH_OPERATION = "ListDICOMImportJobs"
    crumb = "Import jobs"

    def __init__(self, argument: str | None = None) -> None:
        super().__init__()
        self.datastore_id: str | None = None
        self.view = "all"
        self.listing: JobListing | None = None
        self._initial_filter = ""
        #: Status of every job seen so far, to announce changes (empty until the first load).
        self._seen: dict[str, str] = {}
        #: Jobs started here, shown whatever the status view until the view is changed.
        self._started_here: set[str] = set()
        word = (argument or "").strip()
        if _is_datastore_id(word):
            self.datastore_id = word
            self.crumb = f"Import jobs · {word}"
        elif word.lower() in ("failed", "running", "in progress", "all"):
            self.view = "in progress" if word.lower() == "running" else word.lower()
        else:
            self._initial_filter = word

    def compose_body(self) -> Iterable[Widget]:
        yield ResourceTable(COLUMNS, id="jobs", markable=False)

    def on_mount(self) -> None:
        if self._initial_filter:
            self.query_one(ResourceTable).set_filter(self._initial_filter)
        super().on_mount()

    # --- data ---------------------------------------------------------------------------------

    def fetch(self) -> JobListing:
        hub = self.ahi.services
        stores = [hub.datastores.get(self.datastore_id)] if self.datastore_id else hub.datastores.list()
        return hub.imports.listing(stores)

    def show(self, listing: JobListing) -> None:
        self._announce(listing)
        self.listing = listing
        if self.datastore_id and listing.jobs:
            self.crumb = f"Import jobs · {listing.jobs[0].datastore_name or self.datastore_id}"
        self._show_rows()
        if listing.errors:
            self.query_one(ErrorPanel).show_error(listing.errors[0], f"listing the jobs of {len(listing.errors)} data store(s)")

    def _show_rows(self) -> None:
        listing = self.listing
        if listing is None:
            return
        keep = VIEWS[self.view]
        rows = [
            self._row(job, listing.counts.get(job.id))
            for job in listing.jobs
            if keep(job, listing.counts.get(job.id)) or job.id in self._started_here
        ]
        self.query_one(ResourceTable).set_rows(rows)
        self.update_status()

    def _row(self, job: ImportJob, known: JobCounts | None) -> Row:
        fmt = self.ahi.formatter
        counts = known or JobCounts()
        cells = {
            "name": fmt.text(job.name),
            "id": fmt.text(job.id),
            "datastore": fmt.text(job.datastore_name or job.datastore_id),
            "status": job_status_cell(job, known),
            "submitted": fmt.time(job.submitted_at),
            "ended": fmt.time(job.ended_at),
            "duration": duration_text(job.duration),
            "scanned": count_text(counts.scanned),
            "imported": count_text(counts.imported),
            "failed": count_text(counts.failed, alarm=True),
        }
        sort_values = {
            "submitted": job.submitted_at, "ended": job.ended_at, "duration": job.duration,
            "scanned": counts.scanned, "imported": counts.imported, "failed": counts.failed,
        }  # fmt: skip
        return Row(key=job.id, cells=cells, resource=job, sort_values=sort_values)

    def _announce(self, listing: JobListing) -> None:
        """Notify every status change since the last refresh (and jobs that appeared meanwhile)."""
        first_load = not self._seen
        for job in listing.jobs:
            before = self._seen.get(job.id)
            self._seen[job.id] = job.status
            if first_load or before == job.status:
                continue
            label = job.name or job.id
            if before is None:
                self.notify(f"{label}: {job.status}", title="New import job")
                continue
            counts = listing.counts.get(job.id)
            failed = f" — {counts.failed} failed file(s)" if counts and counts.failed else ""
            severity = "error" if job.status == "FAILED" or failed else "information"
            self.notify(f"{label}: {before} → {job.status}{failed}", title="Import job", severity=severity)

    def on_screen_resume(self) -> None:
        """Back from a job's detail: a re-import or a new job may have appeared meanwhile."""
        super().on_screen_resume()
        if self.listing is not None:
            self.refresh_now()

    def hidden_by_view(self) -> list[ImportJob]:
        """Jobs started here that are shown although the status view would hide them."""
        listing = self.listing
        if listing is None:
            return []
        keep = VIEWS[self.view]
        return [j for j in listing.jobs if j.id in self._started_here and not keep(j, listing.counts.get(j.id))]

    # --- refresh: every interval, sooner while counts are still being read ----------------------

    @property
    def counts_pending(self) -> bool:
        """Some COMPLETED job's counts were not read yet (a refresh reads a limited number of manifests)."""
        listing = self.listing
        return listing is not None and any(j.status == "COMPLETED" and j.id not in listing.counts for j in listing.jobs)

    def _arm(self) -> None:
        super()._arm()
        if self.counts_pending and not self.paused:
            follow_up = self.ahi.clock.monotonic() + COUNTS_FOLLOW_UP_S
            self.refresh_due = follow_up if self.refresh_due is None else min(self.refresh_due, follow_up)

    def status_parts(self) -> list[str]:
        parts = super().status_parts()
        parts.insert(1, f"view: {self.view} (f/i/a)")
        if self.hidden_by_view():
            parts.insert(2, f"new job shown outside view: {self.view}")
        return parts

    # --- keys -----------------------------------------------------------------------------------

    def _set_view(self, view: str) -> None:
        self.view = view
        self._started_here.clear()
        self._show_rows()

    def action_show_failed(self) -> None:
        self._set_view("failed")

    def action_show_in_progress(self) -> None:
        self._set_view("in progress")

    def action_show_all(self) -> None:
        self._set_view("all")

    def action_open(self) -> None:
        job = self.current_resource()
        if isinstance(job, ImportJob):
            counts = self.listing.counts.get(job.id) if self.listing else None
            self.app.push_screen(JobDetailScreen(job, counts))

    @on(DataTable.RowSelected, "#jobs")
    def _row_selected(self) -> None:
        self.action_open()

    @mutating("jobs.start")
    def action_start_import(self) -> None:
        start_import(self, StartImportForm(self.datastore_id or "", "", "", ""), self.job_started)

    def job_started(self, job: ImportJob) -> None:
        """Show the new job at once (the listing catches up on the refresh that follows), even outside the view."""
        self._started_here.add(job.id)
        listing = self.listing
        if listing is not None and all(j.id != job.id for j in listing.jobs):
            names = {j.datastore_id: j.datastore_name for j in listing.jobs}
            shown = replace(job, datastore_name=job.datastore_name or names.get(job.datastore_id, ""))
            self.listing = replace(listing, jobs=[shown, *listing.jobs])
        self._show_rows()
        table = self.query_one(ResourceTable)
        label = self.ahi.formatter.text(job.name or job.id)
        if self.hidden_by_view():
            self.notify(f"{label} is shown although view: {self.view} hides it (a shows all)", title="New import job")
        if all(row.key != job.id for row in table.visible_rows):
            self.notify(f"{label} is hidden by the filter (local): {table.filter_text} (/ changes it)", severity="warning")
        self.refresh_after_change()
