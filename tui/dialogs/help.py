"""`?` help, generated from the action registry for the screen it was opened on."""

from __future__ import annotations

from typing import ClassVar, Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.actions import Action, key_label

FILTER_HELP = "/ filter: words match any column; col:value one column; !word negates; Esc clears."
COMMAND_HELP = ":ds :jobs :sets :tags :kms — screens;  :profile NAME  :region NAME  :q — Tab completes."


class HelpScreen(ModalScreen[None]):
    """A table of keys, actions and whether they change AWS; read-only hides the ones that do."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 84; max-width: 95%; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, title: str, actions: Iterable[Action], keymap: dict[str, str], read_only: bool) -> None:
        super().__init__()
        self.title_text = title
        self.actions = list(actions)
        self.keymap = keymap
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.render_table())

    def render_table(self) -> Table:
        table = Table(title=self.title_text, expand=True, box=None, title_style="bold")
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("action")
        table.add_column("command", style="dim")
        table.add_column("", no_wrap=True)
        for action in self.actions:
            marker = Text("changes AWS", style="red") if action.mutates else Text("")
            table.add_row(
                key_label(action.keys, self.keymap, action.id),
                action.description,
                f":{action.command}" if action.command else "",
                marker,
            )
        table.add_section()
        table.add_row("", FILTER_HELP, "", "")
        table.add_row("", COMMAND_HELP, "", "")
        if self.read_only:
            table.add_row("", Text("READ-ONLY: actions that change AWS are hidden.", style="bold"), "", "")
        return table

    def action_close(self) -> None:
        self.dismiss(None)
