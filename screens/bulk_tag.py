"""A tag change applied to many resources: a progress bar, then which succeeded and which failed and why."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, ProgressBar, Static

from ahi.services.tags import Outcome, TagChange, TagOutcome, TagTarget
from ahi.tui.widgets.resource_table import CELL_LIMIT

OUTCOME_STYLES = {Outcome.CHANGED: "green", Outcome.UNCHANGED: "dim", Outcome.FAILED: "bold red", Outcome.SKIPPED: "yellow"}


@dataclass
class OutcomeReady(Message):
    """One resource is done."""

    outcome: TagOutcome


@dataclass
class BulkFinished(Message):
    """Every resource is done (or skipped after a stop)."""

    outcomes: list[TagOutcome]


def summary_text(outcomes: list[TagOutcome]) -> Text:
    """`3 changed · 1 unchanged · 2 failed`, each in its colour."""
    counts = Counter(outcome.outcome for outcome in outcomes)
    parts = [Text(f"{counts[kind]} {kind.value}", style=OUTCOME_STYLES[kind]) for kind in Outcome if counts[kind]]
    return Text(" · ").join(parts) if parts else Text("nothing done")


class BulkTagDialog(ModalScreen[list[TagOutcome] | None]):
    """Runs as soon as it opens; Esc stops after the current resource, then closes with the outcomes."""

    CSS_PATH = "bulk_tag.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Stop / close", show=False)]

    def __init__(self, change: TagChange, targets: list[TagTarget]) -> None:
        super().__init__()
        self.change = change
        self.targets = targets
        self.outcomes: list[TagOutcome] = []
        self.finished = False
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        verb = f"Removing tag {self.change.key} from" if self.change.removes else f"Adding tag {self.change} to"
        fmt = self.app.formatter  # type: ignore[attr-defined]
        with Vertical(id="bulk"):
            yield Label(fmt.literal(f"{verb} {len(self.targets)} resource{'s' if len(self.targets) > 1 else ''}"), classes="title")
            yield ProgressBar(total=len(self.targets), show_eta=False, id="progress")
            yield Static("", id="summary")
            yield DataTable(id="outcomes", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="buttons"):
                yield Button("Stop", id="stop", variant="warning")
                yield Button("Close", id="close", variant="primary", disabled=True)

    def on_mount(self) -> None:
        table = self.query_one("#outcomes", DataTable)
        table.add_column("resource", key="resource")
        table.add_column("result", key="result", width=9)
        table.add_column("detail", key="detail")
        self._run()

    @work(thread=True, exit_on_error=False, group="bulk-tag")
    def _run(self) -> None:
        service = self.app.services.tags  # type: ignore[attr-defined]
        outcomes = service.apply_all(
            self.targets, self.change, report=lambda outcome: self.post_message(OutcomeReady(outcome)), stopped=self._stop.is_set
        )
        self.post_message(BulkFinished(outcomes))

    @on(OutcomeReady)
    def _outcome_ready(self, message: OutcomeReady) -> None:
        outcome = message.outcome
        self.outcomes.append(outcome)
        fmt = self.app.formatter  # type: ignore[attr-defined]
        detail = f"{outcome.code}: {outcome.detail}" if outcome.code else outcome.detail
        self.query_one("#outcomes", DataTable).add_row(
            fmt.literal(outcome.target.label, limit=CELL_LIMIT),
            Text(outcome.outcome.value, style=OUTCOME_STYLES[outcome.outcome]),
            fmt.literal(detail, limit=CELL_LIMIT),
            key=outcome.target.arn,
        )
        self.query_one("#progress", ProgressBar).advance(1)
        self.query_one("#summary", Static).update(summary_text(self.outcomes))

    @on(BulkFinished)
    def _finished(self, message: BulkFinished) -> None:
        self.finished = True
        self.outcomes = message.outcomes
        summary = summary_text(self.outcomes)
        failed = sum(1 for outcome in self.outcomes if outcome.outcome is Outcome.FAILED)
        if failed:
            summary.append("  — the rows that failed stay marked: fix the cause and run again.", style="italic")
        self.query_one("#summary", Static).update(summary)
        self.query_one("#stop", Button).disabled = True
        close = self.query_one("#close", Button)
        close.disabled = False
        close.focus()

    @on(Button.Pressed, "#stop")
    def action_stop(self) -> None:
        if not self.finished and not self._stop.is_set():
            self._stop.set()
            self.query_one("#stop", Button).disabled = True
            self.notify("Stopping after the current resource")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        if self.finished:
            self.dismiss(self.outcomes)
        else:
            self.action_stop()
