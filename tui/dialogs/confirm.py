"""Confirmation before an action: Cancel has the focus, the action is red, deletes need the ID typed."""

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


class ConfirmDialog(ModalScreen[bool]):
    """Dismisses with True only when confirmed (and, for TYPE_ID, the exact ID was typed)."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical { width: 72; max-width: 95%; height: auto; border: thick $error; background: $surface; padding: 1 2; }
    ConfirmDialog .title { text-style: bold; color: $error; }
    ConfirmDialog Input { margin: 1 0 0 0; }
    ConfirmDialog .problem { color: $error; height: auto; }
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
                yield Input(placeholder="resource ID", id="typed")
                yield Static("", classes="problem", id="problem")
            with Horizontal():
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self.action.description, id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#cancel")
    def cancelled(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted, "#typed")
    def confirmed(self) -> None:
        if self.action.confirm is Confirm.TYPE_ID and self.query_one("#typed", Input).value.strip() != self.resource_id:
            self.query_one("#problem", Static).update("The ID does not match; nothing was changed.")
            return
        self.dismiss(True)
