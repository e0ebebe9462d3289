"""The key/value form behind every tag change: add, edit, and bulk add or remove.

The service's rules are checked here before anything is sent, so the form names the field and the
rule; the service still has the last word and its answer is shown by whoever sends the request.
"""

from __future__ import annotations

from typing import ClassVar, Mapping

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ahi.services.tags import MAX_TAGS_PER_RESOURCE, TagChange, allowed_key_punctuation, tag_problems
from ahi.tui.literal import DETAIL_LIMIT, literal
from ahi.tui.widgets.literal_input import LiteralInput


class TagFormDialog(ModalScreen[TagChange | None]):
    """Dismisses with a TagChange that passed the local rules (value None: remove), or None."""

    CSS_PATH = "tag_form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(
        self,
        title: str,
        *,
        existing: Mapping[str, str] | None = None,
        key: str = "",
        value: str = "",
        ask_value: bool = True,
        submit_label: str = "Save",
    ) -> None:
        super().__init__()
        self.title_text = title
        #: The resource's tags as last read (None when unknown, e.g. across many resources).
        self.existing = dict(existing) if existing is not None else None
        self.original_key = key
        self.initial_value = value
        self.ask_value = ask_value
        self.submit_label = submit_label

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Label(literal(self.title_text, limit=200), classes="title")
            yield Label("Key")
            yield LiteralInput(self.original_key, placeholder=f"letters, digits and {allowed_key_punctuation()}", id="key")
            if self.ask_value:
                yield Label("Value (may be empty)")
                yield LiteralInput(self.initial_value, placeholder="up to 256 characters", id="value")
            yield Static(self._limits(), id="limits")
            yield Static("", id="problems")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.submit_label, id="submit", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#value" if self.original_key and self.ask_value else "#key", Input).focus()

    def _limits(self) -> Text:
        text = Text("Keys 1-128 characters, not starting with aws:; values up to 256.", style="dim")
        if self.existing is not None:
            text.append(f"\nThe resource has {len(self.existing)} of {MAX_TAGS_PER_RESOURCE} tags.", style="dim")
        return text

    def change(self) -> TagChange:
        key = self.query_one("#key", Input).value.strip()
        value = self.query_one("#value", Input).value if self.ask_value else None
        return TagChange(key, value)

    def problems(self, change: TagChange) -> list[str]:
        """The rules the change breaks, counting the resource's other tags against the limit."""
        if change.value is None or self.existing is None:
            return [str(problem) for problem in change.problems()]
        others = {k: v for k, v in self.existing.items() if k != self.original_key}
        return [str(problem) for problem in tag_problems({change.key: change.value}, others)]

    @on(Input.Changed)
    def _edited(self) -> None:
        change = self.change()
        note = ""
        if self.existing is not None and change.key != self.original_key and change.key in self.existing:
            note = f"{change.key} exists: its value {self.existing[change.key]!r} will be replaced."
        self.query_one("#problems", Static).update(literal(note, style="yellow", limit=DETAIL_LIMIT))

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    def submit(self) -> None:
        change = self.change()
        problems = self.problems(change)
        if problems:
            self.query_one("#problems", Static).update(literal("\n".join(f"✖ {problem}" for problem in problems), style="red", multiline=True))
            return
        self.dismiss(change)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
