"""One import job: properties, and the outcome read from its folder in S3 (streamed, with a progress bar).

The failure file is grouped as it streams in: reasons appear and grow while the rest loads, each
opens to its files with the input object's size and date. Every S3 problem (missing manifest,
denied access, malformed lines) is a line in the panel; the rest of the report still shows.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import ProgressBar, Static, Tree
from textual.worker import get_current_worker

from ahi.screens.image_set_detail import ImageSetDetailScreen
from ahi.screens.import_start import start_import
from ahi.screens.job_view import duration_text, job_status_cell
from ahi.screens.prompt_dialog import PromptDialog
from ahi.screens.study_conflicts import StudyConflictsScreen
from ahi.services.conflicts import job_roles
from ahi.services.failure_export import FORMATS, export_failures
from ahi.services.failure_reasons import FailureGroup, FailureGrouper
from ahi.services.import_form import StartImportForm, cli_command
from ahi.services.import_job_list import ImportJob, JobCounts
from ahi.services.imports import (
    FAILURE,
    SUCCESS,
    WARNING,
    JobFolder,
    ManifestOutcome,
    ReadProgress,
    SectionResult,
)
from ahi.services.input_objects import InputObjects
from ahi.services.job_output import FailureLine, ImageSetSummary, MalformedLine, SuccessLine, WarningLine
from ahi.services.reimport import ReimportPlan, ReimportResult, plan_reimport
from ahi.services.retry_reasons import retry_verdict
from ahi.services.s3_location import S3Problem, S3Uri
from ahi.tui.actions import REGISTRY, Action, Confirm, mutating
from ahi.tui.dialogs.json_view import JsonDialog
from ahi.tui.literal import DETAIL_LIMIT, literal_row, safe
from ahi.tui.screen_base import AhiScreen
from ahi.tui.widgets.job_outcome_tree import MoreFiles, OutcomeTree

SCOPE = "job_detail"
REGISTRY.register(
    Action("job_detail.reimport", "reimport", "R", "Re-import failed files", SCOPE,
           mutates=True, confirm=Confirm.YES_NO, command="reimport"),
    Action("job_detail.start", "start_import", "n", "Start import job", SCOPE, mutates=True, command="import"),
    Action("job_detail.export", "export", "e", "Export failure report", SCOPE, command="export"),
    Action("job_detail.cli", "copy_cli", "x", "Copy AWS CLI command", SCOPE, command="cli"),
    Action("job_detail.raw_line", "raw_line", "l", "Raw ndjson line", SCOPE, command="line"),
    Action("job_detail.conflicts", "conflicts", "f", "Conflicts (non-primary)", SCOPE, command="conflicts"),
)  # fmt: skip

#: Seconds between re-reads of a COMPLETED job's manifest that is not written yet, and how many tries.
MANIFEST_RETRY_S = 3.0
MANIFEST_RETRIES = 5
#: Reasons shown while the failure file still streams in (the full list comes when it ends).
LIVE_GROUPS = 200
#: Seconds between two screen updates while the failure file streams in (each one redraws the tree).
LIVE_UPDATE_S = 0.25


def role_rows(table: Table, image_sets: Sequence[ImageSetSummary]) -> None:
    """How many of the job's image sets are primary and non-primary (manifest `isPrimary`, docs/conflicts.md);
    nothing when the manifest does not say."""
    primary, non_primary, unstated = job_roles(image_sets)
    if image_sets and unstated == len(image_sets):
        return
    literal_row(table, "primary", str(primary))
    literal_row(table, "non-primary", Text(str(non_primary), style="bold yellow" if non_primary else ""))


class _Stale(Exception):
    """The read was superseded (refresh) or the screen closed: stop streaming."""


@dataclass
class ManifestRead(Message):
    generation: int
    outcome: ManifestOutcome


@dataclass
class FailuresProgress(Message):
    generation: int
    progress: ReadProgress
    groups: list[FailureGroup]
    total: int


@dataclass
class SectionRead(Message):
    generation: int
    result: SectionResult[Any]
    groups: list[FailureGroup] | None = None


@dataclass
class LookupsRead(Message):
    found: dict[str, Any]


class JobDetailScreen(AhiScreen):
    """Reached with Enter from the jobs list; refreshes itself while the job runs."""

    CSS_PATH = "job_detail.tcss"
    SCOPE = SCOPE
    FETCH_OPERATION = "GetDICOMImportJob"

    def __init__(self, job: ImportJob, counts: JobCounts | None = None) -> None:
        super().__init__()
        self.job = job
        self.counts = counts
        self.crumb = job.name or job.id
        self.manifest: ManifestOutcome | None = None
        self.failures: SectionResult[FailureLine] | None = None
        self.groups: list[FailureGroup] = []
        self.sections: dict[str, SectionResult[Any]] = {}
        self.inputs: InputObjects | None = None
        self._generation = 0
        self._folder_read_for: str | None = None
        self._manifest_retries = 0

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="summary"):
            yield Static(id="properties")
            yield Static(id="outcome")
        yield Static(id="notes")
        yield ProgressBar(id="progress", show_eta=False)
        yield OutcomeTree(id="outcome-tree")

    def on_mount(self) -> None:
        self.query_one("#progress", ProgressBar).display = False
        self._show_properties()
        super().on_mount()
        self.query_one(OutcomeTree).focus()

    def current_resource(self) -> ImportJob:
        return self.job

    # --- the job ------------------------------------------------------------------------------------

    def fetch(self) -> ImportJob:
        return self.ahi.services.imports.get(self.job.datastore_id, self.job.id, self.job.datastore_name)

    def show(self, job: ImportJob) -> None:
        before, self.job = self.job.status, job
        if before != job.status:
            self.notify(f"{job.name or job.id}: {before} → {job.status}", title="Import job")
        self._show_properties()
        if not job.active and self._folder_read_for != job.status:
            self._start_folder_read()

    def action_refresh(self) -> None:
        self._folder_read_for = None
        self._manifest_retries = 0
        super().action_refresh()

    def _arm(self) -> None:
        super()._arm()
        if not self.job.active:
            self.refresh_due = None

    def _show_properties(self) -> None:
        """One line per property, long values cut with an ellipsis (`y` shows them whole)."""
        fmt, job = self.ahi.formatter, self.job
        table = Table(title="Import job", title_justify="left", title_style="bold", box=None, show_header=False)
        table.add_column(style="dim", no_wrap=True, min_width=10)
        table.add_column(no_wrap=True, overflow="ellipsis")
        raw = job.raw
        ended = f" → {fmt.time(job.ended_at)}" if job.ended_at else ""
        for label, value in (
            ("name", fmt.text(job.name)),
            ("id", fmt.text(job.id)),
            ("status", job_status_cell(job, self.counts if self.manifest is None else self._counts_from_manifest())),
            ("data store", fmt.text(job.datastore_name or job.datastore_id)),
            ("time", f"{fmt.time(job.submitted_at)}{ended} ({duration_text(job.duration)})"),
            ("role", fmt.text(job.role_arn)),
            ("input", fmt.text(raw.get("inputS3Uri"))),
            ("output", fmt.text(raw.get("outputS3Uri"))),
        ):
            literal_row(table, label, value)
        if job.message:
            literal_row(table, "message", Text(fmt.text(job.message), style="bold red" if job.status == "FAILED" else ""))
        self.query_one("#properties", Static).update(table)

    def _counts_from_manifest(self) -> JobCounts | None:
        manifest = self.manifest.manifest if self.manifest else None
        if manifest is None:
            return JobCounts(problem=self.manifest.message) if self.manifest else None
        return JobCounts(manifest.scanned_files, manifest.imported_files, manifest.failed_files)

    # --- the folder, streamed --------------------------------------------------------------------------

    def _start_folder_read(self) -> None:
        self._folder_read_for = self.job.status
        self._generation += 1
        self.sections.clear()
        self.failures, self.groups = None, []
        self.query_one(OutcomeTree).show_groups([], 0, loading=True)
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self._read_folder(self._generation, dict(self.job.raw))

    @work(thread=True, exclusive=True, group="folder", exit_on_error=False)
    def _read_folder(self, generation: int, properties: dict[str, Any]) -> None:
        worker = get_current_worker()

        def still_wanted() -> None:
            if worker.is_cancelled or generation != self._generation:
                raise _Stale

        reader = self.ahi.services.job_folder(properties)
        self.post_message(ManifestRead(generation, reader.read_manifest()))
        grouper = FailureGrouper()
        last_update = [float("-inf")]

        def progressed(progress: ReadProgress) -> None:
            still_wanted()
            now = time.monotonic()
            if progress.done or now - last_update[0] < LIVE_UPDATE_S:
                return
            last_update[0] = now
            self.post_message(FailuresProgress(generation, progress, grouper.largest(LIVE_GROUPS), grouper.total))

        try:
            result, _ = reader.read_failures(progressed, grouper)
            self.post_message(SectionRead(generation, result, grouper.groups()))
            for section in (WARNING, SUCCESS):
                still_wanted()
                self.post_message(SectionRead(generation, reader.read_section(section)))
        except _Stale:
            return

    @on(ManifestRead)
    def _manifest_read(self, message: ManifestRead) -> None:
        if message.generation != self._generation:
            return
        self.manifest = outcome = message.outcome
        manifest = outcome.manifest
        input_uri = (manifest.input_s3_uri if manifest else None) or self.job.raw.get("inputS3Uri")
        if input_uri and self.inputs is None:
            try:
                self.inputs = self.ahi.services.input_objects(S3Uri.parse(input_uri))
            except ValueError:
                self.inputs = None
        if manifest is not None:
            self.query_one(OutcomeTree).show_image_sets(manifest.image_sets)
        elif outcome.not_yet_written and self.job.status == "COMPLETED" and self._manifest_retries < MANIFEST_RETRIES:
            self._manifest_retries += 1
            self.set_timer(MANIFEST_RETRY_S, self._retry_manifest)
        self._show_properties()
        self._show_outcome()

    def _retry_manifest(self) -> None:
        if self.is_attached and self.manifest is not None and self.manifest.manifest is None:
            self._start_folder_read()

    @on(FailuresProgress)
    def _failures_progress(self, message: FailuresProgress) -> None:
        if message.generation != self._generation:
            return
        progress, bar = message.progress, self.query_one("#progress", ProgressBar)
        if progress.total_bytes:
            bar.update(total=progress.total_bytes, progress=progress.bytes_read)
        if not progress.done:
            self.query_one(OutcomeTree).show_groups(message.groups, message.total, loading=True)

    @on(SectionRead)
    def _section_read(self, message: SectionRead) -> None:
        if message.generation != self._generation:
            return
        result = message.result
        self.sections[result.section] = result
        tree = self.query_one(OutcomeTree)
        if result.section == FAILURE.name:
            self.failures, self.groups = result, message.groups or []
            tree.show_groups(self.groups, len(result.records), loading=False)
            self.query_one("#progress", ProgressBar).display = False
        elif result.section == WARNING.name:
            tree.show_warnings(result.records, "" if result.absent else result.message)
        tree.show_malformed(result.tally.malformed, result.section)
        self._show_outcome()

    def _show_outcome(self) -> None:
        fmt = self.ahi.formatter
        table = Table(title="Outcome", title_justify="left", title_style="bold", box=None, show_header=False)
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        manifest = self.manifest.manifest if self.manifest else None
        if manifest is not None:
            for label, value in (
                ("files scanned", manifest.scanned_files),
                ("imported", manifest.imported_files),
                ("customer errors", manifest.files_with_customer_error),
                ("server errors", manifest.files_with_server_error),
                ("image sets", manifest.generated_image_sets),
            ):
                alarm = label.endswith("errors") and bool(value)
                literal_row(table, label, Text("—" if value is None else str(value), style="bold red" if alarm else ""))
            role_rows(table, manifest.image_sets)
        elif self.manifest is None:
            literal_row(table, "manifest", Text("reading…", style="dim"))
        for name in (SUCCESS.name, WARNING.name):
            result = self.sections.get(name)
            if result is not None and not result.absent:
                literal_row(table, f"{name} lines", str(result.tally.records))
        self.query_one("#outcome", Static).update(table)
        notes = [self.manifest.message] if self.manifest and self.manifest.message else []
        notes += [r.message for r in self.sections.values() if r.message and not r.absent]
        notes += [r.message for r in self.sections.values() if r.absent and r.section == FAILURE.name and manifest]
        text = Text("\n".join(fmt.text(note) for note in notes), style="yellow")
        self.query_one("#notes", Static).update(safe(text, limit=DETAIL_LIMIT))
        self.query_one("#notes", Static).display = bool(notes)

    # --- input objects (size, date) on demand --------------------------------------------------------

    @on(OutcomeTree.FilesShown)
    def _files_shown(self, message: OutcomeTree.FilesShown) -> None:
        if self.inputs is not None and message.input_files:
            self._look_up(self.inputs, message.input_files)

    @work(thread=True, group="lookups", exit_on_error=False)
    def _look_up(self, inputs: InputObjects, input_files: list[str]) -> None:
        self.post_message(LookupsRead(inputs.lookup(input_files)))

    @on(LookupsRead)
    def _lookups_read(self, message: LookupsRead) -> None:
        self.query_one(OutcomeTree).show_lookups(message.found)

    @on(Tree.NodeExpanded, "#outcome-tree")
    def _node_expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        self.query_one(OutcomeTree).open_group(event.node)

    @on(Tree.NodeSelected, "#outcome-tree")
    def _node_selected(self, event: Tree.NodeSelected[Any]) -> None:
        data = event.node.data
        if isinstance(data, MoreFiles):
            self.query_one(OutcomeTree).open_more(event.node)
        elif isinstance(data, ImageSetSummary):
            self._open_image_set(data)
        elif isinstance(data, (FailureLine, WarningLine, SuccessLine, MalformedLine)):
            self.action_raw_line()

    def _open_image_set(self, summary: ImageSetSummary) -> None:
        self.app.push_screen(ImageSetDetailScreen(self.job.datastore_id, summary.image_set_id, summary.image_set_id))

    # --- what the cursor is on ---------------------------------------------------------------------------

    def _cursor_data(self) -> Any:
        node = self.query_one(OutcomeTree).cursor_node
        return node.data if node is not None else None

    def _cursor_group(self) -> FailureGroup | None:
        node = self.query_one(OutcomeTree).cursor_node
        while node is not None:
            if isinstance(node.data, FailureGroup):
                return node.data
            node = node.parent
        return None

    # --- actions ---------------------------------------------------------------------------------------

    def action_raw_line(self) -> None:
        data = self._cursor_data()
        if isinstance(data, MalformedLine):
            self.app.push_screen(JsonDialog(f"line {data.span.number} (malformed)", {"reason": data.reason, "text": data.excerpt}))
            return
        section = {FailureLine: FAILURE, WarningLine: WARNING, SuccessLine: SUCCESS}.get(type(data))
        result = self.sections.get(section.name) if section else None
        if result is None:
            self.notify("Put the cursor on a file first", severity="warning")
            return
        connection, uri, span = self.ahi.services, result.uri, data.span
        title = f"{uri.key.rpartition('/')[2]} line {span.number}"
        self.call_in_background("GetObject", lambda: connection.raw_line(uri, span), lambda raw: self._show_raw(title, raw))

    def _show_raw(self, title: str, raw: str | S3Problem) -> None:
        if isinstance(raw, S3Problem):
            self.notify(raw.message, severity="error")
            return
        try:
            document = json.loads(raw)
        except json.JSONDecodeError:
            document = {"text": raw}
        self.app.push_screen(JsonDialog(title, document if isinstance(document, dict) else {"value": document}))

    def _start_form(self, job_name: str = "") -> StartImportForm:
        raw = self.job.raw
        folder = JobFolder.for_job(raw.get("outputS3Uri", ""), self.job.datastore_id, self.job.id) if raw.get("outputS3Uri") else None
        return StartImportForm(
            datastore_id=self.job.datastore_id,
            input_s3_uri=raw.get("inputS3Uri", ""),
            output_s3_uri=str(folder.parent_output_uri) if folder else "",
            role_arn=self.job.role_arn or "",
            job_name=job_name,
        )

    def action_copy_cli(self) -> None:
        command = cli_command(self._start_form(self.job.name), self.ahi.services.cli_context())
        self.app.copy_to_clipboard(command)
        self.notify(self.ahi.formatter.text(command), title="AWS CLI command copied (OSC 52)")

    @mutating("job_detail.start")
    def action_start_import(self) -> None:
        start_import(self, self._start_form())

    @mutating("job_detail.reimport")
    def action_reimport(self) -> None:
        if self.failures is None or not self.failures.records:
            self.notify("No failed files to re-import (yet)", severity="warning")
            return
        group = self._cursor_group()
        if group is not None:
            verdict = group.retry
            if not verdict.helps:
                self.notify(
                    f"Not offered for this reason: {verdict.why}. Fix the files, then start an import (n).",
                    title="Re-import would fail again", severity="warning",
                )
                return
            members, left_out = group.members, 0
        else:
            members = [f for f in self.failures.records if retry_verdict(f.exception_type, f.message).helps]
            left_out = len(self.failures.records) - len(members)
            if not members:
                self.notify(
                    "Re-import not offered: every file failed for its content, and a retry sends the same bytes. "
                    "Pick a reason to see why; fix the files, then start an import (n).",
                    title="Re-import would fail again", severity="warning",
                )
                return
        plan = plan_reimport(self.job.raw, [f.input_file for f in members], self.ahi.clock.now())
        what = f"reason {group.key.label}: " if group is not None else ""
        skipped = f" ({left_out} file(s) left out: their content was rejected, a retry cannot pass)" if left_out else ""
        self.confirm_then("job_detail.reimport", f"{what}{plan.summary}{skipped}", str(plan.target_prefix), lambda: self._reimport(plan))

    def _reimport(self, plan: ReimportPlan) -> None:
        connection = self.ahi.services
        self.notify(f"Copying {plan.file_count} file(s) to {self.ahi.formatter.text(str(plan.target_prefix))}…")
        self.call_in_background("CopyObject", lambda: connection.reimport(plan), self._reimported)

    def _reimported(self, result: ReimportResult) -> None:
        failed = f"; {len(result.copy_failures)} copy(ies) failed" if result.copy_failures else ""
        if result.job_id is None:
            self.notify(f"{result.start_error}{failed}", title="Re-import not started", severity="error")
            return
        self.notify(
            f"Job {self.ahi.formatter.text(result.job_id)} started on {len(result.copied)} file(s){failed}",
            title="Re-import", severity="warning" if failed else "information",
        )

    def action_export(self) -> None:
        if not self.groups:
            self.notify("No failures to export", severity="warning")
            return
        default = str(Path.cwd() / f"failures-{self.job.id}.csv")

        def check(text: str) -> str | None:
            suffix = Path(text).suffix.lstrip(".").lower()
            return None if suffix in FORMATS else f"End the name with .csv or .json (not {suffix or 'nothing'})"

        hint = "A .csv (one row per file) or .json (files under their reasons) file; sizes are included where known."
        self.app.push_screen(PromptDialog("Export failure report to", hint, default, check), self._export_to)

    def _export_to(self, path: str | None) -> None:
        if not path:
            return
        groups, job = list(self.groups), dict(self.job.raw)
        known = self.inputs.cached if self.inputs is not None else None
        self.call_in_background(
            "export", lambda: export_failures(path, groups, job=job, known=known), self._exported
        )

    def action_conflicts(self) -> None:
        """The studies of the image sets this job made non-primary (all of its image sets when none is)."""
        manifest = self.manifest.manifest if self.manifest else None
        if manifest is None or not manifest.image_sets:
            self.notify("The job's manifest lists no image sets (yet)", severity="warning")
            return
        non_primary = [s.image_set_id for s in manifest.image_sets if s.is_primary is False]
        seeds = non_primary or [s.image_set_id for s in manifest.image_sets]
        self.app.push_screen(StudyConflictsScreen(self.job.datastore_id, seeds))

    def _exported(self, path: Path) -> None:
        total = sum(group.count for group in self.groups)
        self.notify(f"{total} failure(s) in {len(self.groups)} reason(s) → {path}", title="Report exported")
