"""A fleet row's job detail: the job screen on that row's region connection, not the console's own.

The job screen reaches AWS through `self.ahi.services`; here that one attribute answers with the
region's connection (everything else is the app's). Screens the job screen would open next (image
sets, conflicts, a new import) work on the console's own region, so in another region they are
refused with the `:region` that reaches them (docs/fleet.md#opening-a-row).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ahi.screens.job_detail import JobDetailScreen
from ahi.services.import_job_list import ImportJob, JobCounts
from ahi.tui.actions import mutating

if TYPE_CHECKING:
    from ahi.services.connection import Connection


class _RegionView:
    """The app, except that `services` is the region's connection."""

    def __init__(self, app: Any, connection: Connection) -> None:
        self._app = app
        self.services = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)


class FleetJobDetailScreen(JobDetailScreen):
    """JobDetailScreen on a fleet row's (profile, region) connection."""

    def __init__(self, job: ImportJob, counts: JobCounts | None, connection: Connection, where: str) -> None:
        super().__init__(job, counts)
        self.connection = connection
        self.where = where
        self.crumb = f"{job.name or job.id} · {where}"

    @property
    def ahi(self) -> Any:
        return _RegionView(self.app, self.connection)

    @property
    def elsewhere(self) -> bool:
        """True when the row's connection is not the console's own (another region or profile)."""
        return self.connection is not self.app.services  # type: ignore[attr-defined]

    def _refused_elsewhere(self, what: str) -> bool:
        if not self.elsewhere:
            return False
        region = self.connection.region or ""
        self.notify(f"{what} opens in the console's own region; `:region {region}` switches to {self.where} first", severity="warning")
        return True

    def _open_image_set(self, summary: Any) -> None:
        if not self._refused_elsewhere("The image set"):
            super()._open_image_set(summary)

    def action_conflicts(self) -> None:
        if not self._refused_elsewhere("The conflicts view"):
            super().action_conflicts()

    @mutating("job_detail.start")
    def action_start_import(self) -> None:
        if not self._refused_elsewhere("A new import"):
            super().action_start_import()
