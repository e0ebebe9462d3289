"""Confirmation before an action: the action is red, yes/no starts on Cancel, deletes start in the typed-ID field.

A delete's field has the focus from the start, so what the person types (or pastes) lands there and
Enter confirms once it matches; Cancel stays the default only where nothing needs typing.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ahi.tui.actions import Action, Confirm
from ahi.tui.literal import safe
from ahi.tui.widgets.in_order_input import InOrderInput


class ConfirmDialog(ModalScreen[bool]):
    """Dismisses with True only when confirmed (and, for TYPE_ID, the exact ID was typed)."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical { width: 72; max-width: 95%; height: auto; border: thick $error; background: $surface; padding: 1 2; }
    ConfirmDialog .title { text-style: bold; color: $error; }
    ConfirmDialog Input { margin: 1 0 0 0; }
    ConfirmDialog .problem { color: $error; height: auto; }
    ConfirmDialog .problem.match { color: $success; }
    ConfirmDialog Horizontal { height: auto; margin: 1 0 0 0; align-horizontal: right; }
    ConfirmDialog Button { margin: 0 0 0 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, action: Action, resource_label: str, resource_id: str) -> None:
        super().__init__()
        self.action = action
        self.resource_label = resource_label
        self.resource_id = resource_id

    def compose(self) -> ComposeResult:
        fmt = self.app.formatter  # type: ignore[attr-defined]
        with Vertical():
            yield Label(f"{self.action.description}?", classes="title")
            yield Static(safe(Text.assemble(self.resource_label, " ", (fmt.text(self.resource_id), "bold"))))
            if self.action.confirm is Confirm.TYPE_ID:
                yield Static(safe(Text.assemble("Type ", (fmt.text(self.resource_id), "bold"), " to confirm.")))
                yield InOrderInput(placeholder="resource ID", id="typed")
                yield Static("", classes="problem", id="problem")
            with Horizontal():
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self.action.description, id="confirm", variant="error")

    def on_mount(self) -> None:
        if self.action.confirm is Confirm.TYPE_ID:
            self.query_one("#typed", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    @on(Input.Changed, "#typed")
    def typed(self, event: Input.Changed) -> None:
        """Say how the typed ID compares while it is typed; an empty field says nothing."""
        value = event.value.strip()
        if not value:
            message = ""
        elif value == self.resource_id:
            message = "The ID matches: Enter confirms."
        elif self.resource_id.startswith(value):
            message = ""
        else:
            message = "The ID does not match."
        problem = self.query_one("#problem", Static)
        problem.set_class(value == self.resource_id, "match")
        problem.update(message)

    def action_cancel(self) -> None:
        self.finish(False)

    @on(Button.Pressed, "#cancel")
    def cancelled(self) -> None:
        self.finish(False)

    def finish(self, confirmed: bool) -> None:
        """Dismiss once: a second Enter from a burst of keys must not reach the screen below."""
        if not self.is_active:
            return
        self.dismiss(confirmed)

    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted, "#typed")
    def confirmed(self) -> None:
        if self.action.confirm is Confirm.TYPE_ID and self.query_one("#typed", Input).value.strip() != self.resource_id:
            problem = self.query_one("#problem", Static)
            problem.remove_class("match")
            problem.update("The ID does not match; nothing was changed.")
            return
        self.finish(True)
