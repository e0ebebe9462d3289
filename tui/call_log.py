"""`!`: every AWS call of this session with time, duration, outcome and its AWS CLI equivalent.

It opens on the newest call; while the cursor is on the last row it follows new calls (k9s' tail).
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.widget import Widget

from ahi.services.call_log import CallRecord
from ahi.tui.actions import REGISTRY, Action
from ahi.tui.screen_base import AhiScreen
from ahi.tui.widgets.resource_table import Column, ResourceTable, Row

REGISTRY.register(Action("call_log.copy", "copy_command", "c", "Copy command line", "call_log"))

COLUMNS = (
    Column("time", "time", 8),
    Column("ms", "ms", 6),
    Column("outcome", "outcome", 16),
    Column("retries", "retries", 7),
    Column("command", "AWS CLI equivalent"),
)


class CallLogScreen(AhiScreen):
    """The call log; `c` copies the selected command line (OSC 52)."""

    SCOPE = "call_log"
    AUTO_REFRESH = False
    crumb = "Call log"

    def compose_body(self) -> Iterable[Widget]:
        yield ResourceTable(COLUMNS, id="calls", markable=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("raw_json", "copy_id", "copy_arn"):
            return False
        return super().check_action(action, parameters)

    def fetch(self) -> list[CallRecord]:
        return self.ahi.call_log.records()

    def show(self, result: list[CallRecord]) -> None:
        table = self.query_one(ResourceTable)
        first = not table.rows_all
        table.set_rows([self._row(index, record) for index, record in enumerate(result)])
        if first:
            table.action_last_row()

    def add_record(self, record: CallRecord) -> None:
        """A new call: on the last row, the cursor follows it to the new last row (`G` goes back to following)."""
        table = self.query_one(ResourceTable)
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        table.set_rows([*table.rows_all, self._row(len(table.rows_all), record)])
        if following:
            table.action_last_row()
        self.update_status()

    def _row(self, index: int, record: CallRecord) -> Row:
        fmt = self.ahi.formatter
        outcome = Text(record.outcome, style="green" if record.ok else "bold red")
        cells: dict[str, Any] = {
            "time": fmt.time(record.started_at)[-8:],
            "ms": f"{record.duration_s * 1000:.0f}",
            "outcome": outcome,
            "retries": str(record.retries),
            "command": fmt.text(record.cli_command),
        }
        return Row(key=str(index), cells=cells, resource=record, sort_values={"time": index, "ms": record.duration_s})

    def action_copy_command(self) -> None:
        record = self.current_resource()
        if isinstance(record, CallRecord):
            self.app.copy_to_clipboard(record.cli_command)
            self.notify(self.ahi.formatter.text(record.cli_command), title="command copied (OSC 52)")
