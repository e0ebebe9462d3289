"""Failed imports across a fleet: every (profile, region) the operator names, gathered in parallel (docs/fleet.md).

Each region is listed on its own connection (its own session and clients, from `Connection.sibling`) by a
bounded pool of threads; a region that cannot be reached becomes an error row, never a crash, and each
region's result is handed on as soon as it is in, so the screen shows progress.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ahi.services.errors import AwsCallError
from ahi.services.import_job_list import ImportJob, JobCounts, needs_attention

if TYPE_CHECKING:
    from ahi.services.connection import Connection

#: Regions gathered at once (each also lists its data stores and reads manifests with its own small pool).
FLEET_WORKERS = 4
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")


@dataclass(frozen=True)
class FleetTarget:
    """One place to look: a region, on a named profile or (None) on the console's current one."""

    region: str
    profile: str | None = None

    @property
    def label(self) -> str:
        return f"{self.profile}@{self.region}" if self.profile else self.region


def parse_fleet(spec: str) -> list[FleetTarget]:
    """`us-east-1, prod@eu-west-1`: regions, each optionally `PROFILE@`; ValueError naming a bad item."""
    targets: list[FleetTarget] = []
    for item in (part.strip() for part in re.split(r"[,\s]+", spec)):
        if not item:
            continue
        profile, at, region = item.rpartition("@")
        if (at and not profile) or not _REGION.match(region):
            raise ValueError(f"{item!r} is not REGION or PROFILE@REGION (a region looks like us-east-1)")
        target = FleetTarget(region, profile or None)
        if target not in targets:
            targets.append(target)
    return targets


@dataclass(frozen=True)
class FleetRow:
    """A job that needs attention in one region, or (job None) why that region or one of its stores was not read."""

    target: FleetTarget
    profile: str
    account: str | None
    job: ImportJob | None = None
    counts: JobCounts | None = None
    error: AwsCallError | None = None
    #: Which of the target's errors this row is (a region can fail for several data stores).
    error_index: int = 0

    @property
    def key(self) -> str:
        if self.job is not None:
            return f"{self.target.label}/{self.job.datastore_id}/{self.job.id}"
        return f"{self.target.label}/error/{self.error_index}"

    @property
    def status(self) -> str:
        return self.job.status if self.job is not None else "ERROR"

    @property
    def reason(self) -> str:
        """One line: the job's message, its failed-file count, or the region's error."""
        if self.job is None:
            error = self.error
            return f"{error.operation}: {error.code}: {error.message}" if error else "not read"
        counts = self.counts
        if self.job.status == "COMPLETED" and counts is not None:
            if counts.problem:
                return f"manifest not read: {counts.problem}"
            return f"{counts.failed} of {counts.scanned} file(s) failed"
        return self.job.message or self.job.status

    @property
    def time(self) -> datetime | None:
        job = self.job
        return (job.ended_at or job.submitted_at) if job is not None else None


@dataclass
class FleetRegion:
    """What one target gave: its rows (errors included) and the connection its jobs open in."""

    target: FleetTarget
    rows: list[FleetRow]
    connection: Connection | None = None


@dataclass
class FleetReport:
    """The regions gathered so far, in the order the operator named them."""

    targets: Sequence[FleetTarget]
    regions: dict[FleetTarget, FleetRegion] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return len(self.regions)

    @property
    def rows(self) -> list[FleetRow]:
        return [row for target in self.targets if target in self.regions for row in self.regions[target].rows]

    def connection_of(self, row: FleetRow) -> Connection | None:
        region = self.regions.get(row.target)
        return region.connection if region is not None else None


def region_failures(target: FleetTarget, connect: Callable[[FleetTarget], Connection]) -> FleetRegion:
    """The jobs needing attention in one target's data stores; any failure is a row of its own."""
    profile = target.profile or ""
    try:
        connection = connect(target)
        profile = connection.profile or profile
        stores = connection.datastores.list()
        listing = connection.imports.listing(stores)
    except Exception as exc:  # an unknown profile, no credentials, an unreachable region: a row, not a crash
        error = AwsCallError.from_exception("ListDatastores", exc)
        return FleetRegion(target, [FleetRow(target, profile, None, error=error)])
    account = connection.aws.account_id()
    rows = [
        FleetRow(target, profile, account, job=job, counts=listing.counts.get(job.id))
        for job in listing.jobs
        if needs_attention(job, listing.counts.get(job.id))
    ]
    rows += [FleetRow(target, profile, account, error=error, error_index=n) for n, error in enumerate(listing.errors)]
    return FleetRegion(target, rows, connection)


def gather_failed_imports(
    targets: Sequence[FleetTarget],
    connect: Callable[[FleetTarget], Connection],
    on_region: Callable[[FleetReport], None] | None = None,
    workers: int = FLEET_WORKERS,
) -> FleetReport:
    """Every target's failed imports, `workers` targets at a time; `on_region(report so far)` after each one."""
    report = FleetReport(list(targets))
    if not targets:
        return report
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets))), thread_name_prefix="fleet") as pool:
        futures = [pool.submit(region_failures, target, connect) for target in targets]
        for future in as_completed(futures):
            region = future.result()
            report.regions[region.target] = region
            if on_region is not None:
                on_region(FleetReport(report.targets, dict(report.regions)))
    return report
