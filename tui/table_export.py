"""`:export PATH` (ctrl+e): the table on screen, as shown (filter and sort applied), to a CSV or JSON file.

The file is written by a worker, atomically; an existing file is replaced only after a yes/no
confirm (docs/table-export.md).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ahi.services.table_export import TableData, export_format, write_table
from ahi.tui.actions import REGISTRY, Confirm

if TYPE_CHECKING:
    from ahi.tui.screen_base import AhiScreen
    from ahi.tui.widgets.resource_table import ResourceTable

EXPORT_ACTION = "screen.export"
HINT = "A .csv (a spreadsheet: formula-like cells get a ' prefix) or .json file of the rows shown, as shown."


def table_data(table: ResourceTable) -> TableData:
    """The shown rows (filter and sort applied) by column key, each cell's text as drawn."""
    columns = [column.key for column in table.resource_columns]
    return TableData(columns, [row.plain() for row in table.visible_rows])


def export_table(screen: AhiScreen, path: str | None) -> None:
    """Ask for a path when none is given, confirm before replacing a file, then write in a worker."""
    table = screen.table
    if table is None:
        screen.notify("No table to export here", severity="warning")
        return
    if not path:
        from ahi.screens.prompt_dialog import PromptDialog

        default = str(Path.cwd() / f"{(table.id or 'table').replace('_', '-')}.csv")
        screen.app.push_screen(PromptDialog("Export this table to", HINT, default, _path_problem), lambda chosen: _export_to(screen, chosen))
        return
    _export_to(screen, path)


def _path_problem(text: str) -> str | None:
    try:
        export_format(text)
    except ValueError as exc:
        return str(exc).capitalize()
    return None


def _export_to(screen: AhiScreen, path: str | None) -> None:
    if not path:
        return
    problem = _path_problem(path)
    if problem:
        screen.notify(problem, severity="error", title="Not exported")
        return
    table = screen.table
    if table is None:
        return
    data, target = table_data(table), Path(path).expanduser()
    if not target.exists():
        _write(screen, target, data, overwrite=False)
        return
    ask = replace(REGISTRY[EXPORT_ACTION], description="Overwrite the existing file", confirm=Confirm.YES_NO)
    from ahi.tui.dialogs.confirm import ConfirmDialog

    label = f"{len(data.rows)} row(s) over"
    screen.app.push_screen(ConfirmDialog(ask, label, str(target)), lambda yes: _write(screen, target, data, overwrite=True) if yes else None)


def _write(screen: AhiScreen, target: Path, data: TableData, *, overwrite: bool) -> None:
    def written(path: Path) -> None:
        screen.notify(f"{len(data.rows)} row(s) → {path}", title="Table exported")

    screen.call_in_background("export", lambda: write_table(target, data, overwrite=overwrite), written)
