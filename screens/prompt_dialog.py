"""A one-field prompt (a name, a file path): Enter accepts, Esc cancels, `check` names what is wrong."""

from __future__ import annotations

from typing import Callable, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ahi.tui.literal import literal
from ahi.tui.widgets.literal_input import LiteralInput

Check = Callable[[str], "str | None"]


class PromptDialog(ModalScreen["str | None"]):
    """Dismisses with the stripped text, or None when cancelled."""

    DEFAULT_CSS = """
    PromptDialog { align: center middle; }
    PromptDialog > Vertical { width: 80; max-width: 95%; height: auto; border: round $accent; background: $surface; padding: 1 2; }
    PromptDialog .title { text-style: bold; }
    PromptDialog .hint { color: $text-muted; }
    PromptDialog .problem { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, title: str, hint: str = "", value: str = "", check: Check | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.value = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(self.title_text, limit=200), classes="title")
            if self.hint:
                yield Static(literal(self.hint, multiline=True), classes="hint")
            yield LiteralInput(self.value, id="prompt-value")
            yield Static("", classes="problem", id="prompt-problem")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def accepted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        problem = "Nothing entered" if not text else self.check(text) if self.check else None
        if problem:
            self.query_one("#prompt-problem", Static).update(literal(problem, multiline=True))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
