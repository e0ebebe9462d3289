"""A DataTable of resources with in-place filter, keyboard sort, row marks and context-keeping refresh."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from ahi.tui.actions import ScopedBindings
from ahi.tui.filtering import parse_filter, row_matches
from ahi.tui.literal import safe

MARK_COLUMN = "_mark"
MARK = "●"
#: Widest an automatically sized column grows; longer cells are cut (the detail view shows them whole).
MAX_AUTO_WIDTH = 48
#: Longest value a cell holds (the detail view shows it whole); a foreign value can be any size.
CELL_LIMIT = 256


@dataclass(frozen=True)
class Column:
    """A table column; `key` is what `col:value` filters and sort refer to."""

    key: str
    label: str
    width: int | None = None


@dataclass
class Row:
    """One resource: its display cells by column key, sort values, and the resource itself.

    Cells are foreign text: each becomes `Text` drawn literally (a `str` is never read as markup,
    control and bidi characters are shown escaped, long values cut with `…`; docs/foreign-text.md).
    """

    key: str
    cells: dict[str, str | Text]
    resource: Any = None
    sort_values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cells = {column: cell_text(value) for column, value in self.cells.items()}

    def plain(self) -> dict[str, str]:
        return {k: v.plain if isinstance(v, Text) else str(v) for k, v in self.cells.items()}


def cell_text(value: str | Text) -> Text:
    """One cell as literal `Text` on one line: line breaks shown as `␊`, cut at `CELL_LIMIT`."""
    return safe(value, limit=CELL_LIMIT, multiline=False)


def elide(value: str | Text, width: int | None) -> str | Text:
    """`value` cut to `width` cells with a visible `…`; unchanged when it fits (or the column has no width yet)."""
    if width is None or width <= 0:
        return value
    text = value if isinstance(value, Text) else Text(value)
    if text.cell_len <= width:
        return value
    cut = text.copy()
    cut.truncate(width, overflow="ellipsis")
    return cut


class ResourceTable(ScopedBindings, DataTable[Any]):
    """Rows are replaced wholesale by `set_rows`; cursor, scroll, filter, sort and marks survive it."""

    SCOPE = "table"

    class MarksChanged(Message):
        """The set of marked rows changed."""

        def __init__(self, table: ResourceTable, marked: frozenset[str]) -> None:
            super().__init__()
            self.table = table
            self.marked = marked

    class SortChanged(Message):
        """The sort column or direction changed (the status line shows it)."""

        def __init__(self, table: ResourceTable) -> None:
            super().__init__()
            self.table = table

    def __init__(self, columns: Iterable[Column], *, id: str | None = None, markable: bool = True) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.resource_columns = list(columns)
        self.markable = markable
        self.rows_all: list[Row] = []
        self.filter_text = ""
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.marked: set[str] = set()
        self._visible_keys: list[str] = []

    def on_mount(self) -> None:
        self._rebuild()

    @property
    def column_labels(self) -> dict[str, str]:
        return {c.key: c.label for c in self.resource_columns}

    @property
    def visible_rows(self) -> list[Row]:
        by_key = {row.key: row for row in self.rows_all}
        return [by_key[key] for key in self._visible_keys]

    @property
    def current_row(self) -> Row | None:
        """The row under the cursor, if any."""
        if not self._visible_keys or self.cursor_row >= len(self._visible_keys):
            return None
        key = self._visible_keys[self.cursor_row]
        return next((row for row in self.rows_all if row.key == key), None)

    @property
    def marked_rows(self) -> list[Row]:
        return [row for row in self.rows_all if row.key in self.marked]

    def set_rows(self, rows: list[Row]) -> None:
        """Replace the data; keeps the cursor on the same resource and the scroll where it was."""
        self.rows_all = rows
        self.marked &= {row.key for row in rows}
        new_keys = self._compute_visible()
        if new_keys == self._visible_keys and self.row_count == len(new_keys) and self._widths_still_fit():
            self._update_cells_in_place()
        else:
            self._rebuild()

    def set_columns(self, columns: Iterable[Column]) -> None:
        """Show these columns from now on (a sort on a column that is gone is dropped); rows stay."""
        self.resource_columns = list(columns)
        if self.sort_column not in {column.key for column in self.resource_columns}:
            self.sort_column = None
        self._rebuild()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._rebuild()

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        self.sort_column, self.sort_reverse = column, reverse
        self._rebuild()
        self.post_message(self.SortChanged(self))

    def action_sort(self) -> None:
        """Sort by the next column (from none, to the first, to the next ...)."""
        keys = [c.key for c in self.resource_columns]
        position = keys.index(self.sort_column) + 1 if self.sort_column in keys else 0
        self.sort_by(keys[position % len(keys)], False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column or self.resource_columns[0].key, not self.sort_reverse)

    def action_first_row(self) -> None:
        """`g`, Home: the cursor to the first row (the view follows it; sideways scroll stays)."""
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        """`G`, End: the cursor to the last row."""
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def column_starts(self) -> list[int]:
        """Where each column begins, in cells from the table's left edge."""
        starts, x = [], 0
        for column in self.ordered_columns:
            if column.key != MARK_COLUMN:
                starts.append(x)
            x += column.get_render_width(self)
        return starts

    def action_column_right(self) -> None:
        """Right, `l`: scroll so the next column starts at the left edge (never past the last screenful)."""
        starts = self.column_starts()
        later = [x for x in starts[1:] if x > max(self.scroll_x, starts[0] if starts else 0)]
        if later:
            self.scroll_to(x=min(later[0], self.max_scroll_x), animate=False)

    def action_column_left(self) -> None:
        """Left, `h`: scroll so the previous column starts at the left edge (the first one shows the marks again)."""
        starts = self.column_starts()
        earlier = [x for x in starts[1:] if x < self.scroll_x]
        self.scroll_to(x=earlier[-1] if earlier else 0, animate=False)

    def action_mark(self) -> None:
        row = self.current_row
        if row is None or not self.markable:
            return
        self.marked ^= {row.key}
        self.update_cell(row.key, MARK_COLUMN, MARK if row.key in self.marked else "")
        self.post_message(self.MarksChanged(self, frozenset(self.marked)))
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1)

    def set_marks(self, keys: Iterable[str]) -> None:
        """Mark exactly these rows (e.g. keep marks only on the resources a bulk action failed on)."""
        wanted = set(keys)
        self.marked = {row.key for row in self.rows_all if row.key in wanted}
        self._rebuild()
        self.post_message(self.MarksChanged(self, frozenset(self.marked)))

    def _compute_visible(self) -> list[str]:
        terms = parse_filter(self.filter_text, self.column_labels)
        rows = [row for row in self.rows_all if row_matches(terms, row.plain())]
        if self.sort_column:
            rows.sort(key=self._sort_key(self.sort_column), reverse=self.sort_reverse)
        return [row.key for row in rows]

    @staticmethod
    def _sort_key(column: str) -> Callable[[Row], Any]:
        def key(row: Row) -> Any:
            value = row.sort_values.get(column)
            if value is None:
                cell = row.cells.get(column, "")
                value = cell.plain if isinstance(cell, Text) else str(cell)
            return (value is None, value)

        return key

    def _label(self, column: Column) -> Text:
        if column.key != self.sort_column:
            return Text(column.label)
        return Text(f"{column.label} {'▼' if self.sort_reverse else '▲'}", style="bold")

    def _row_cells(self, row: Row) -> list[Any]:
        cells: list[Any] = [self._shown(c.key, row.cells.get(c.key, "")) for c in self.resource_columns]
        if self.markable:
            cells.insert(0, MARK if row.key in self.marked else "")
        return cells

    def _rebuild(self) -> None:
        if not self.is_mounted:
            return
        current = self.current_row
        cursor_key = current.key if current else None
        cursor_index, scroll_x, scroll_y = self.cursor_row, self.scroll_x, self.scroll_y
        self._visible_keys = self._compute_visible()
        self.clear(columns=True)
        if self.markable:
            self.add_column(" ", key=MARK_COLUMN, width=1)
        by_key = {row.key: row for row in self.rows_all}
        visible = [by_key[key] for key in self._visible_keys]
        for column in self.resource_columns:
            self.add_column(self._label(column), key=column.key, width=self._width(column, visible))
        for key in self._visible_keys:
            self.add_row(*self._row_cells(by_key[key]), key=key)
        if not self._visible_keys:
            return
        target = self._visible_keys.index(cursor_key) if cursor_key in self._visible_keys else min(cursor_index, len(self._visible_keys) - 1)
        self.move_cursor(row=target, scroll=False)
        self.scroll_to(x=scroll_x, y=scroll_y, animate=False, immediate=True)

    def _shown(self, column_key: str, value: str | Text) -> str | Text:
        """A cell as drawn: wider than its column, it ends in `…` (the table would cut it silently)."""
        shown = self.columns.get(column_key)  # type: ignore[call-overload]
        width = shown.width if shown is not None else None
        return elide(value, width)

    def _width(self, column: Column, rows: list[Row]) -> int:
        """A column's width: its declared width, wider when a cell needs it (up to `MAX_AUTO_WIDTH`, then `…`)."""
        return max(column.width or 0, self._fit(column, rows))

    def _fit(self, column: Column, rows: list[Row]) -> int:
        """Width that shows the column's widest cell (measured now, not on the next idle)."""
        widest = max((cell_len(row.plain().get(column.key, "")) for row in rows), default=0)
        return min(MAX_AUTO_WIDTH, max(cell_len(self._label(column).plain), widest))

    def _widths_still_fit(self) -> bool:
        """Columns sized to their content still match it (a cell that grew or shrank needs a rebuild)."""
        by_key = {row.key: row for row in self.rows_all}
        visible = [by_key[key] for key in self._visible_keys]
        for column in self.resource_columns:
            shown = self.columns.get(column.key)  # type: ignore[call-overload]
            if shown is None or shown.width != self._width(column, visible):
                return False
        return True

    def _update_cells_in_place(self) -> None:
        by_key = {row.key: row for row in self.rows_all}
        for key in self._visible_keys:
            row = by_key[key]
            for column in self.resource_columns:
                value = self._shown(column.key, row.cells.get(column.key, ""))
                if self.get_cell(key, column.key) != value:
                    self.update_cell(key, column.key, value, update_width=True)
