"""The bottom input bars: `:` command line with Tab completion, and the `/` filter."""

from __future__ import annotations

import os
from typing import Callable, ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from ahi.tui.widgets.literal_input import LiteralInput

Completer = Callable[[str], list[str]]


class PromptBar(LiteralInput):
    """An input docked at the bottom that closes on Esc (posting `Closed`)."""

    DEFAULT_CSS = """
    PromptBar { display: none; border: none; height: 1; padding: 0 1; background: $boost; }
    PromptBar:focus { border: none; background: $boost; }
    PromptBar.-open { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", show=False)]

    class Closed(Message):
        def __init__(self, bar: PromptBar) -> None:
            super().__init__()
            self.bar = bar

    def open(self, value: str = "") -> None:
        self.value = value
        self.cursor_position = len(value)
        self.add_class("-open")
        # Focus now, not later: keys typed right after `:` (e.g. `:q` in one burst) must land here.
        self.screen.set_focus(self)

    def close(self) -> None:
        self.remove_class("-open")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def action_close(self) -> None:
        self.close()
        self.post_message(self.Closed(self))


class CommandLine(PromptBar):
    """`:` commands; Tab completes from `completer`, repeated Tab cycles through the candidates."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("tab", "complete", "Complete", show=False, priority=True)]

    def __init__(self, completer: Completer, **kwargs: object) -> None:
        super().__init__(placeholder="command (Tab completes, Esc closes)", **kwargs)  # type: ignore[arg-type]
        self.completer = completer
        self._cycle: list[str] = []
        self._cycle_index = 0

    def action_complete(self) -> None:
        if self._cycle and self.value in self._cycle:
            self._cycle_index = (self._cycle_index + 1) % len(self._cycle)
            self._set(self._cycle[self._cycle_index])
            return
        candidates = self.completer(self.value)
        if not candidates:
            return
        prefix = os.path.commonprefix(candidates)
        if len(candidates) == 1:
            self._set(candidates[0])
        elif len(prefix) > len(self.value):
            self._set(prefix)
        else:
            self._cycle, self._cycle_index = candidates, 0
            self._set(candidates[0])
        if len(candidates) > 1:
            self.app.notify("  ".join(candidates), title="completions", timeout=3)

    def _set(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)

    def open(self, value: str = "") -> None:
        self._cycle = []
        super().open(value)


class FilterBar(PromptBar):
    """`/` filter of the current table: substring, `col:value`, `!` to negate."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(placeholder="filter: text  col:value  !negate  (Esc clears)", **kwargs)  # type: ignore[arg-type]
