"""View state kept between runs: each screen's table sort order, in `views.json` under the state folder.

Filters are not kept on purpose: a filter that survives a restart hides rows from someone who
has forgotten typing it. A missing or unreadable file means defaults; it is never an error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ahi.tui.state_file import read_section, save_private

VIEWS_FILE = "views.json"


@dataclass(frozen=True)
class TableSort:
    """A table's sort column (by column key) and direction."""

    column: str
    reverse: bool = False


class ViewState:
    """Remembered sorts by view key; `remember_sort` is cheap, `save` writes the file (call it in a worker)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._sorts: dict[str, TableSort] = self._load() if path is not None else {}
        self._lock = threading.Lock()

    def _load(self) -> dict[str, TableSort]:
        assert self.path is not None
        sorts = read_section(self.path, "sorts")
        return {
            view: TableSort(entry["column"], bool(entry.get("reverse", False)))
            for view, entry in sorts.items()
            if isinstance(entry, dict) and isinstance(entry.get("column"), str)
        }

    def sort_of(self, view: str) -> TableSort | None:
        with self._lock:
            return self._sorts.get(view)

    def remember_sort(self, view: str, column: str | None, reverse: bool) -> bool:
        """Note a view's sort; True when it changed (and the file needs saving)."""
        with self._lock:
            wanted = TableSort(column, reverse) if column else None
            if self._sorts.get(view) == wanted:
                return False
            if wanted is None:
                self._sorts.pop(view, None)
            else:
                self._sorts[view] = wanted
            return True

    def save(self) -> None:
        """Write every remembered sort (0600: it names the screens an operator uses, nothing more)."""
        if self.path is None:
            return
        with self._lock:
            document = {"sorts": {view: {"column": s.column, "reverse": s.reverse} for view, s in sorted(self._sorts.items())}}
        save_private(self.path, document, "the view state")
