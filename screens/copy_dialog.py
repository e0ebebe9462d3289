"""CopyImageSet: to a new image set or into an existing one, with `force` and `promoteToPrimary`.

The request body is shown before sending; the destination's latest version is looked up when the
copy is sent (as AWS's Java helper does), so it is current at that moment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ahi.services.validation import shape, string_problems
from ahi.tui.literal import literal
from ahi.tui.widgets.check import Check

NEW, EXISTING = "new", "existing"


@dataclass(frozen=True)
class CopyRequest:
    """What the dialog collected."""

    destination_id: str | None
    force: bool = False
    promote_to_primary: bool = False


def destination_problem(source_id: str, destination_id: str) -> str | None:
    """Why `destination_id` cannot be a copy's destination, or None."""
    if not destination_id:
        return "give the destination image set ID"
    problems = string_problems("destination", destination_id, shape("ImageSetId"))
    if problems:
        return "must be 32 lower-case letters and digits (an image set ID)"
    if destination_id == source_id:
        return "is the source itself"
    return None


class CopyDialog(ModalScreen["CopyRequest | None"]):
    """Dismisses with a CopyRequest, or None; Cancel has the focus."""

    DEFAULT_CSS = """
    CopyDialog { align: center middle; }
    CopyDialog > Vertical { width: 90; max-width: 98%; height: auto; border: thick $warning; background: $surface; padding: 0 1; }
    CopyDialog .title { text-style: bold; }
    CopyDialog .row { height: auto; }
    CopyDialog .row Label { width: 14; color: $text-muted; }
    CopyDialog .row Input, CopyDialog .row Select { width: 1fr; }
    CopyDialog #problem { color: $error; height: auto; }
    CopyDialog #preview { height: auto; border: round $panel; }
    CopyDialog #buttons { height: auto; align-horizontal: right; }
    CopyDialog Button { margin: 0 0 0 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, source_id: str, source_version: str) -> None:
        super().__init__()
        self.source_id = source_id
        self.source_version = source_version

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(f"Copy image set {self.source_id} (version {self.source_version})"), classes="title")
            with Horizontal(classes="row"):
                yield Label("Copy to")
                yield Select([("a new image set", NEW), ("an existing image set", EXISTING)], value=NEW, allow_blank=False, id="target", compact=True)
            with Horizontal(classes="row", id="destination-row"):
                yield Label("Destination")
                yield Input(placeholder="destination image set ID", id="destination", compact=True)
            yield Check("force (copy even if metadata differ, where the service allows it)", id="force", compact=True)
            yield Check("promote the copy to primary", id="promote", compact=True)
            yield Static("", id="problem")
            yield Static("", id="preview")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Copy", id="send", variant="warning")

    def on_mount(self) -> None:
        self._recompute()
        self.query_one("#cancel", Button).focus()

    def request(self) -> tuple[CopyRequest, str | None]:
        existing = self.query_one("#target", Select).value == EXISTING
        destination = self.query_one("#destination", Input).value.strip() if existing else None
        problem = destination_problem(self.source_id, destination or "") if existing else None
        return CopyRequest(destination, self.query_one("#force", Checkbox).value, self.query_one("#promote", Checkbox).value), problem

    def _recompute(self) -> None:
        request, problem = self.request()
        self.query_one("#destination-row").display = request.destination_id is not None
        information: dict[str, object] = {"sourceImageSet": {"latestVersionId": self.source_version}}
        if request.destination_id is not None:
            information["destinationImageSet"] = {"imageSetId": request.destination_id, "latestVersionId": "(its latest, looked up when sent)"}
        flags = [name for name, on_ in (("force", request.force), ("promoteToPrimary", request.promote_to_primary)) if on_]
        text = json.dumps({"copyImageSetInformation": information}, indent=2)
        if flags:
            text += "\n// query: " + ", ".join(f"{flag}=true" for flag in flags)
        self.query_one("#preview", Static).update(Syntax(text, "json", theme="ansi_dark", word_wrap=True))
        self.query_one("#problem", Static).update(literal(problem or ""))
        self.query_one("#send", Button).disabled = problem is not None

    @on(Select.Changed)
    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self._recompute()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if not self.query_one("#send", Button).disabled:
            self.query_one("#send", Button).focus()

    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        request, problem = self.request()
        if problem is None:
            self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
