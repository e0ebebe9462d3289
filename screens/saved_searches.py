"""Saved image set searches: kept by name as `[searches."NAME"]` tables in the console's config file.

Saving rewrites only that table (the rest of the file, comments included, stays as written), writes
atomically, and reads the file back through the config parser so what is kept is what loads.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Mapping

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ahi.services.atomic_file import atomic_text_file
from ahi.services.search_criteria import SearchForm, check_search, describe_criteria
from ahi.tui.config import ConsoleConfig, parse_config
from ahi.tui.literal import literal
from ahi.tui.paths import config_path

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")
_HEADER = re.compile(r"^\s*\[")


def name_problem(name: str) -> str | None:
    if not NAME_PATTERN.fullmatch(name):
        return "Use 1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit"
    return None


def _table_header(name: str) -> str:
    return f"[searches.{json.dumps(name)}]"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(str(value), ensure_ascii=False)


def with_search(text: str, name: str, values: Mapping[str, Any]) -> str:
    """`text` (a config file) with the saved search `name` replaced by `values`, or added at the end."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _is_header_of(line, name)), None)
    if start is not None:
        end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
        del lines[start:end]
    while lines and not lines[-1].strip():
        lines.pop()
    block = [_table_header(name), *(f"{key} = {_toml_value(value)}" for key, value in values.items())]
    return "\n".join([*lines, *([""] if lines else []), *block]) + "\n"


def _is_header_of(line: str, name: str) -> bool:
    stripped = line.split("#", 1)[0].strip().replace(" ", "")
    return stripped in (_table_header(name).replace(" ", ""), f"[searches.{name}]".replace(" ", ""), f"[searches.'{name}']".replace(" ", ""))


def save_search(config: ConsoleConfig, name: str, form: SearchForm) -> ConsoleConfig:
    """Write `form` as the saved search `name`; the config as the file now reads."""
    path = config.path or config_path()
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    updated = with_search(text, name, form.values())
    reread = parse_config(updated, path)
    with atomic_text_file(path) as out:
        out.write(updated)
    return reread


def summary(values: Mapping[str, Any]) -> str:
    """What a saved search asks for, in the status bar's words."""
    checked = check_search(SearchForm.from_values(values))
    return describe_criteria(checked.criteria) if checked.ok else "invalid: " + "; ".join(map(str, checked.problems))


class SavedSearchDialog(ModalScreen["str | None"]):
    """The saved searches by name with what each asks for; Enter runs one, Esc closes."""

    DEFAULT_CSS = """
    SavedSearchDialog { align: center middle; }
    SavedSearchDialog > Vertical { width: 100; max-width: 95%; height: auto; max-height: 80%; border: round $accent; background: $surface; padding: 0 1; }
    SavedSearchDialog Label { text-style: bold; }
    SavedSearchDialog OptionList { height: auto; max-height: 20; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, searches: Mapping[str, Mapping[str, Any]]) -> None:
        super().__init__()
        self.searches = dict(searches)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Saved searches (Enter runs, Esc closes)")
            yield OptionList(*(Option(literal(f"{name} — {summary(values)}", limit=200), id=name) for name, values in sorted(self.searches.items())))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
