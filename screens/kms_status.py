"""`:kms`: each data store's key, its state, rotation and manager, and whether it leaves the data readable.

Stores whose key makes their data unreadable are flagged red, listed first and counted in the
header; the pane under the table says what the operator should do about the selected one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from rich.console import Group
from rich.text import Text
from textual import on
from textual.widget import Widget
from textual.widgets import DataTable, Static

from ahi.screens.datastore_detail import DatastoreDetailScreen
from ahi.screens.datastore_view import AWS_OWNED, datastore_status_cell, key_id_of
from ahi.services.kms import KeyStatus
from ahi.services.kms_health import KEY_NOT_FOUND_CODES, DatastoreKeyCheck, KeyHealth, check_datastore_keys
from ahi.tui.actions import REGISTRY, Action
from ahi.tui.literal import DETAIL_LIMIT, safe
from ahi.tui.screen_base import AhiScreen
from ahi.tui.widgets.resource_table import Column, ResourceTable, Row

REGISTRY.register(
    Action("kms.open", "open_datastore", "enter", "Open data store", "kms", footer=False),
    Action("kms.copy_fix", "copy_fix", "f", "Copy fix command", "kms", command="fix"),
)

COLUMNS = (
    Column("health", "health", 12),
    Column("name", "data store"),
    Column("status", "status", 13),
    Column("key", "key"),
    Column("state", "key state"),
    Column("describe", "describe", 12),
    Column("rotation", "rotation", 8),
    Column("manager", "manager", 8),
)
HEALTH_STYLES = {KeyHealth.UNREADABLE: "bold red", KeyHealth.WARNING: "yellow", KeyHealth.OK: "green"}
HEALTH_LABELS = {KeyHealth.UNREADABLE: "✖ unreadable", KeyHealth.WARNING: "▲ check", KeyHealth.OK: "✔ ok"}


@dataclass(frozen=True)
class KeyView:
    """What `y`, `c` and `C` act on here: the key (ID, ARN, last DescribeKey answer)."""

    id: str | None
    arn: str | None
    raw: Mapping[str, Any]


def key_name(key: KeyStatus) -> str:
    if key.aws_owned:
        return AWS_OWNED
    return key.alias or key.key_id or key_id_of(key.key_ref or "")


def rotation_cell(key: KeyStatus) -> Text:
    if key.aws_owned:
        return Text("by AWS", style="dim")
    if key.rotation_enabled is None:
        return Text("denied" if key.rotation_error == "AccessDeniedException" else "?", style="yellow")
    return Text("on", style="green") if key.rotation_enabled else Text("off")


def describe_cell(key: KeyStatus) -> Text:
    if key.aws_owned:
        return Text("n/a", style="dim")
    if key.error is None:
        return Text("yes", style="green")
    return Text(key.error.code.removesuffix("Exception"), style="bold red" if key.describable else "yellow")


class KmsStatusScreen(AhiScreen):
    """Key status per data store; Enter opens the data store, `f` copies the suggested fix."""

    CSS_PATH = "kms_status.tcss"
    SCOPE = "kms"
    FETCH_OPERATION = "ListDatastores"
    crumb = "KMS keys"

    def __init__(self, argument: str | None = None) -> None:
        super().__init__()
        self.initial_filter = argument
        self.checks: dict[str, DatastoreKeyCheck] = {}

    def compose_body(self) -> Iterable[Widget]:
        yield ResourceTable(COLUMNS, id="keys", markable=False)
        yield Static(id="explain")

    def on_mount(self) -> None:
        """Runs before AhiScreen's own on_mount (Textual calls each class's handler in turn)."""
        if self.initial_filter:
            self.command_argument(self.initial_filter)

    def fetch(self) -> list[DatastoreKeyCheck]:
        hub = self.ahi.services
        return check_datastore_keys(hub.datastores, hub.kms)

    def show(self, result: list[DatastoreKeyCheck]) -> None:
        self.checks = {check.datastore.id: check for check in result}
        self.query_one(ResourceTable).set_rows([self._row(check) for check in result])
        self.ahi.set_key_alerts(sum(1 for check in result if check.unreadable))
        self._explain()

    def _row(self, check: DatastoreKeyCheck) -> Row:
        fmt, key, store, health = self.ahi.formatter, check.key, check.datastore, check.assessment.health
        cells: dict[str, str | Text] = {
            "health": Text(HEALTH_LABELS[health], style=HEALTH_STYLES[health]),
            "name": fmt.text(store.name),
            "status": datastore_status_cell(store.status),
            "key": fmt.text(key_name(key)) if store.detailed else "?",
            "manager": key.key_manager or "—",
            "state": self._state_cell(key),
            "rotation": rotation_cell(key),
            "describe": describe_cell(key),
        }
        return Row(key=store.id, cells=cells, resource=check, sort_values={"health": health.rank, "name": store.name.lower()})

    def _state_cell(self, key: KeyStatus) -> Text:
        if key.aws_owned:
            return Text("—", style="dim")
        if key.error is not None:
            if key.error.code in KEY_NOT_FOUND_CODES:
                return Text("not found", style="bold red")
            return Text("unknown", style="yellow")
        text = Text(key.key_state or "?", style="green" if key.usable else "bold red")
        if key.deletion_date is not None:
            text.append(f" {self.ahi.formatter.time(key.deletion_date)[:10]}")
        return text

    def status_parts(self) -> list[str]:
        parts = super().status_parts()
        counts = [check.assessment.health for check in self.checks.values()]
        unreadable, warnings = counts.count(KeyHealth.UNREADABLE), counts.count(KeyHealth.WARNING)
        if self.checks:
            parts.insert(1, f"{unreadable} unreadable · {warnings} to check")
        return parts

    # --- the explanation pane -------------------------------------------------------------------

    def selected_check(self) -> DatastoreKeyCheck | None:
        row = self.query_one(ResourceTable).current_row
        return row.resource if row is not None else None

    @on(DataTable.RowHighlighted, "#keys")
    def _explain(self) -> None:
        check = self.selected_check()
        self.query_one("#explain", Static).update(self._explanation(check) if check is not None else "")

    def _explanation(self, check: DatastoreKeyCheck) -> Group:
        fmt, assessment = self.ahi.formatter, check.assessment
        style = f"bold {HEALTH_STYLES[assessment.health]}"
        lines = [Text.assemble((fmt.text(check.datastore.name), "bold"), " — ", (fmt.text(assessment.summary), style))]
        if not check.key.aws_owned:
            lines.append(Text.assemble(("key ", "dim"), fmt.text(check.key.arn or check.key.key_ref)))
        for step in assessment.advice:
            lines.append(Text(fmt.text(step), style="bold" if step.startswith("aws ") else ""))
        return Group(*(safe(line, limit=DETAIL_LIMIT) for line in lines))

    # --- actions --------------------------------------------------------------------------------

    def current_resource(self) -> KeyView | None:
        check = self.selected_check()
        if check is None or check.key.aws_owned:
            return None
        return KeyView(check.key.key_id, check.key.arn, check.key.raw)

    def action_open_datastore(self) -> None:
        check = self.selected_check()
        if check is not None:
            self.app.push_screen(DatastoreDetailScreen(check.datastore))

    @on(DataTable.RowSelected, "#keys")
    def _row_selected(self) -> None:
        self.action_open_datastore()

    def action_copy_fix(self) -> None:
        check = self.selected_check()
        commands = [step for step in check.assessment.advice if step.startswith("aws ")] if check is not None else []
        if not commands:
            self.notify("Nothing to fix for this data store", severity="warning")
            return
        self.app.copy_to_clipboard("\n".join(commands))
        self.notify(self.ahi.formatter.text("\n".join(commands)), title="fix copied (OSC 52)")
