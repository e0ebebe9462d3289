"""`:fleet [REGIONS]`: failed imports across every (profile, region) named, in one table (docs/fleet.md).

Regions are gathered in parallel by the fleet service, each on its own connection; each region's rows
appear as it comes in ("2/3 regions"), a region that cannot be read is a row saying why, and Enter
opens a job in its own region's connection. Without an argument the configured fleet is used
(`--fleet`, AHI_FLEET, `fleet` in the config file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from rich.text import Text
from textual import on
from textual.widget import Widget
from textual.widgets import DataTable

from ahi.screens.fleet_job_detail import FleetJobDetailScreen
from ahi.screens.job_view import job_status_cell
from ahi.services.fleet import FleetReport, FleetRow, FleetTarget, gather_failed_imports, parse_fleet
from ahi.tui.actions import REGISTRY, Action
from ahi.tui.screen_base import AhiScreen
from ahi.tui.settings import target_settings
from ahi.tui.widgets.resource_table import Column, ResourceTable, Row

if TYPE_CHECKING:
    from ahi.services.connection import Connection

SCOPE = "fleet"
REGISTRY.register(Action("fleet.open", "open", "enter", "Open job (in its region)", SCOPE, footer=False))

COLUMNS = (
    Column("where", "profile / account"),
    Column("region", "region", 9),
    Column("status", "status", 9),
    Column("job", "job name"),
    Column("reason", "reason"),
    Column("datastore", "data store"),
    Column("time", "ended", 19),
    Column("id", "job ID", 32),
)
USAGE = "name the regions: :fleet us-east-1,eu-west-1 (PROFILE@REGION for another profile), or set --fleet, AHI_FLEET or fleet in the config"


class FleetScreen(AhiScreen):
    """The fleet table; `r` gathers again."""

    CSS_PATH = "fleet.tcss"
    SCOPE = SCOPE
    FETCH_OPERATION = "fleet"
    AUTO_REFRESH = False
    UNUSED_ACTIONS = frozenset({"raw_json", "copy_id", "copy_arn"})
    crumb = "Fleet: failed imports"

    def __init__(self, argument: str | None = None) -> None:
        super().__init__()
        self.spec = (argument or "").strip()
        self.report: FleetReport | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield ResourceTable(COLUMNS, id="fleet", markable=False)

    # --- data ---------------------------------------------------------------------------------

    def fetch(self) -> FleetReport:
        spec = self.spec or self.ahi.options.fleet
        if not spec:
            raise ValueError(USAGE)
        targets = parse_fleet(spec)
        hub = self.ahi.services
        _ = hub.aws  # waits while the local endpoint starts: its URL is part of every target's settings
        self.show_early(FleetReport(targets))
        return gather_failed_imports(targets, lambda target: self._connect(hub, target), self.show_early)

    def _connect(self, hub: Connection, target: FleetTarget) -> Connection:
        """The connection of one target: the console's settings with the target's region (and profile)."""
        app = self.ahi
        return hub.sibling(target_settings(app.options, app.config, hub.settings, target.profile, target.region))

    def show(self, report: FleetReport) -> None:
        self.report = report
        self.query_one(ResourceTable).set_rows([self._row(row) for row in report.rows])

    def _row(self, row: FleetRow) -> Row:
        fmt, job = self.ahi.formatter, row.job
        where = " · ".join(part for part in (row.profile or "default", row.account) if part)
        cells: dict[str, str | Text] = {
            "where": fmt.text(where),
            "region": fmt.text(row.target.region),
            "status": job_status_cell(job, row.counts) if job is not None else Text("ERROR", style="bold red"),
            "job": fmt.text(job.name if job else None),
            "reason": fmt.text(row.reason),
            "datastore": fmt.text((job.datastore_name or job.datastore_id) if job else None),
            "time": fmt.time(row.time),
            "id": fmt.text(job.id if job else None),
        }
        return Row(key=row.key, cells=cells, resource=row, sort_values={"time": row.time})

    def status_parts(self) -> list[str]:
        parts = super().status_parts()
        report = self.report
        if report is not None and report.targets:
            errors = sum(1 for row in report.rows if row.job is None)
            progress = f"{report.done}/{len(report.targets)} regions"
            parts.insert(1, progress + (f" · {errors} error(s)" if errors else ""))
        return parts

    # --- keys -----------------------------------------------------------------------------------

    def action_open(self) -> None:
        row = self.current_resource()
        report = self.report
        if not isinstance(row, FleetRow) or report is None:
            return
        connection = report.connection_of(row)
        if row.job is None or connection is None:
            self.notify(f"{row.target.label}: {row.reason}", severity="error", title="Not read")
            return
        self.app.push_screen(FleetJobDetailScreen(row.job, row.counts, connection, row.target.label))

    @on(DataTable.RowSelected, "#fleet")
    def _row_selected(self) -> None:
        self.action_open()
