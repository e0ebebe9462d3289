"""The raw JSON of a resource's last API response (`y`).

Lines are never wrapped: a wrapped ARN or URL could not be read or selected whole, so a long line
scrolls sideways instead (arrows, or the mouse).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from rich.cells import cell_len
from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from ahi.tui.literal import literal


class JsonDialog(ModalScreen[None]):
    """Read-only, scrollable; Esc or `q` closes, `c` copies the document."""

    DEFAULT_CSS = """
    JsonDialog { align: center middle; }
    JsonDialog > ScrollableContainer { width: 90%; height: 85%; border: round $accent; background: $surface; padding: 0 1; }
    JsonDialog Label { text-style: bold; }
    JsonDialog #json-document { width: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("c", "copy", "Copy JSON"),
    ]

    def __init__(self, title: str, document: Mapping[str, Any]) -> None:
        super().__init__()
        self.title_text = title
        self.document_text = ""
        self.document = document

    def compose(self) -> ComposeResult:
        self.document_text = self.app.formatter.json(self.document)  # type: ignore[attr-defined]
        with ScrollableContainer():
            yield Label(literal(self.title_text, limit=200))
            widest = max((cell_len(line) for line in self.document_text.splitlines()), default=0)
            # code_width: Syntax otherwise measures as wide as the dialog and the long line is cut, not scrollable.
            syntax = Syntax(self.document_text, "json", theme="ansi_dark", word_wrap=False, code_width=widest)
            yield Static(syntax, id="json-document")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.document_text)
        self.notify("JSON copied (OSC 52)")
