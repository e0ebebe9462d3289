"""The footer: the screen's most important keys that fit whole, then `?` for the rest."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

from ahi.tui.actions import REGISTRY, key_name, scope_rank

GAP = "  "
HELP_ACTION = "app.help"


@dataclass(frozen=True)
class FooterEntry:
    """One key as the footer shows it."""

    key: str
    label: str
    description: str

    def text(self) -> Text:
        return Text.assemble((self.label, "bold"), " ", self.description)

    @property
    def width(self) -> int:
        return cell_len(self.label) + 1 + cell_len(self.description)


def fit_entries(entries: list[FooterEntry], width: int) -> tuple[list[FooterEntry], bool]:
    """The entries, in order, that fit whole in `width` beside the `?` entry; and whether any was left out."""
    chosen: list[FooterEntry] = []
    used = 0
    left_out = False
    reserve = cell_len("? more") + cell_len(GAP)
    for entry in entries:
        needed = entry.width + (cell_len(GAP) if chosen else 0)
        if used + needed + reserve <= width:
            chosen.append(entry)
            used += needed
        else:
            left_out = True
    return chosen, left_out


class KeyFooter(Widget):
    """One line of keys, never cut mid-word; a key that does not fit is in `?` help. A click runs the key."""

    DEFAULT_CSS = """
    KeyFooter { dock: bottom; height: 1; padding: 0 1; background: $footer-background; color: $footer-foreground; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        self.refresh()

    def entries(self) -> list[FooterEntry]:
        """The shown, enabled registry keys of this screen, its own first; `?` is added by `render`."""
        own = getattr(self.screen, "SCOPE", "")
        ranked: list[tuple[int, int, FooterEntry]] = []
        seen: set[str] = set()
        for index, active in enumerate(self.screen.active_bindings.values()):
            binding = active.binding
            if not (binding.show and active.enabled) or binding.id is None or binding.id in seen:
                continue
            if binding.id not in REGISTRY.ids() or binding.id == HELP_ACTION:
                continue
            seen.add(binding.id)
            action = REGISTRY[binding.id]
            ranked.append((scope_rank(action.scope, own), index, FooterEntry(binding.key, key_name(binding.key), action.description)))
        return [entry for _, _, entry in sorted(ranked, key=lambda item: (item[0], item[1]))]

    def help_key(self) -> str:
        """The key that opens help here (the config's keymap can move it)."""
        for active in self.screen.active_bindings.values():
            if active.binding.id == HELP_ACTION:
                return active.binding.key
        return "question_mark"

    def render(self) -> Text:
        chosen, left_out = fit_entries(self.entries(), self.content_size.width)
        help_key = self.help_key()
        help_entry = FooterEntry(help_key, key_name(help_key), "more" if left_out else "Help")
        line = Text()
        self._spans = []
        for entry in [*chosen, help_entry]:
            if line:
                line.append(GAP)
            start = line.cell_len
            line.append_text(entry.text())
            self._spans.append((start, line.cell_len, entry.key))
        return line

    def on_click(self, event: events.Click) -> None:
        x = event.x - self.styles.padding.left
        for start, end, key in self._spans:
            if start <= x < end:
                self.app.simulate_key(key)
                return
