"""`?` help, generated from the action registry for the screen it was opened on."""

from __future__ import annotations

from typing import Any, ClassVar, Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ahi.tui.actions import REGISTRY, Action, key_label, scope_rank
from ahi.tui.literal import literal

FILTER_HELP = "/ filter: words match any column; col:value one column; !word negates; Esc clears."
COMMAND_HELP = (
    ":ds :jobs :sets :tags :kms — screens; :sets * every data store; :fleet REGIONS failed imports;\n"
    ":conflicts (on an image set or job); :export PATH the table;  :profile NAME  :region NAME  :q — Tab completes."
)
KEYMAP_HELP = "Keys are remapped by id in the config file's [keymap] table."
NARROW_KEYMAP_HELP = "Keys are remapped by id in the config file's [keymap] table (ids show at 100 columns)."
#: Below this width the id column is left out, so the actions are not wrapped onto two lines each.
IDS_FROM_WIDTH = 100
#: Opposite moves share one help row (`j, ↓ / k, ↑  Next / previous row`), so a screen's keys fit 80x24 better.
PAIRED = {
    "table.down": "table.up",
    "table.first": "table.last",
    "table.page_down": "table.page_up",
    "table.right": "table.left",
    "table.sort": "table.reverse",
}


def help_actions(screen: Any, read_only: bool) -> list[Action]:
    """The actions whose keys work on `screen` (None: app keys only), the screen's own first.

    Table keys only where there is a table; an action the screen refuses (`check_action` False) or,
    in read-only mode, one that changes AWS is left out.
    """
    scopes = screen.scopes() if screen is not None else ["app"]
    own = getattr(screen, "SCOPE", "")
    found: list[Action] = []
    for action in REGISTRY.in_scopes(scopes):
        if read_only and action.mutates:
            continue
        if screen is not None and action.scope != "app":
            if action.scope == "table" and screen.table is None:
                continue
            if screen.check_action(action.method.split("(")[0], ()) is False:
                continue
        found.append(action)
    order = {id(action): index for index, action in enumerate(found)}
    return sorted(found, key=lambda action: (scope_rank(action.scope, own), order[id(action)]))


def paired_keys(first: str, second: str) -> str:
    """`j, ↓` and `k, ↑` as `j/k, ↓/↑`: each key beside its opposite."""
    ones, others = first.split(", "), second.split(", ")
    if len(ones) != len(others):
        return f"{first} / {second}"
    return ", ".join(f"{one}/{other}" for one, other in zip(ones, others))


class HelpDialog(ModalScreen[None]):
    """A table of keys, actions and whether they change AWS; read-only hides the ones that do."""

    DEFAULT_CSS = """
    HelpDialog { align: center middle; }
    HelpDialog > VerticalScroll { width: 100; max-width: 100%; height: auto; max-height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    HelpDialog .notes { margin-top: 1; color: $text-muted; }
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
            yield Static(self.render_notes(), classes="notes")

    def render_table(self) -> Table:
        """One row per action: keys, what it does (and whether it changes AWS), its command, its id for [keymap]."""
        table = Table(title=literal(self.title_text, limit=120, style="bold"), expand=True, box=None, title_style="bold")
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("action", ratio=1)
        table.add_column("command", style="dim", no_wrap=True)
        show_ids = self.shows_ids()
        if show_ids:
            table.add_column("id", style="dim", no_wrap=True)
        by_id = {action.id: action for action in self.actions}
        partners = {PAIRED[a.id] for a in self.actions if a.id in PAIRED and PAIRED[a.id] in by_id}
        for action in self.actions:
            if action.id in partners:
                continue
            partner = by_id.get(PAIRED.get(action.id, ""))
            description = Text(action.description)
            if action.mutates:
                description.append(" changes AWS", style="red")
            keys = key_label(action.keys, self.keymap, action.id)
            if partner is not None:
                keys = paired_keys(keys, key_label(partner.keys, self.keymap, partner.id))
                description.append(" / " + partner.description[:1].lower() + partner.description[1:])
            row = [keys, description, f":{action.command}" if action.command else ""]
            table.add_row(*row, *([action.id] if show_ids else []))
        return table

    def shows_ids(self) -> bool:
        """The id column, for [keymap], where the terminal is wide enough to keep each action on one line."""
        return self.app.size.width >= IDS_FROM_WIDTH

    def render_notes(self) -> Text:
        keymap_help = KEYMAP_HELP if self.shows_ids() else NARROW_KEYMAP_HELP
        notes = Text.assemble(FILTER_HELP, "\n", COMMAND_HELP, "\n", keymap_help)
        if self.read_only:
            notes.append("\nREAD-ONLY: actions that change AWS are hidden.", style="bold")
        return notes

    def action_close(self) -> None:
        self.dismiss(None)
