"""Failed imports across a fleet: two regions of one local endpoint over HTTP, gathered in parallel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from fleet_world import EAST, WEST, FleetWorld
from fleet_world import endpoint, world  # noqa: F401 - the module's shared endpoint and fleet

from ahi.emulator.server import LocalEndpoint
from ahi.services.connection import Connection
from ahi.services.fleet import FleetReport, FleetTarget, gather_failed_imports, parse_fleet
from ahi.services.search_all import search_stores
from ahi.services.session import ConnectionSettings


@pytest.fixture
def hub(endpoint: LocalEndpoint) -> Connection:
    return Connection.for_settings(
        ConnectionSettings(region=EAST, endpoint_url=endpoint.url, local_credentials=True, max_attempts=1)
    )


def connect_with(hub: Connection) -> Callable[[FleetTarget], Connection]:
    return lambda target: hub.sibling(replace(hub.settings, region=target.region, profile=target.profile or hub.settings.profile))


def test_each_region_reports_its_own_failed_jobs_with_progress(world: FleetWorld, hub: Connection) -> None:
    seen: list[FleetReport] = []
    report = gather_failed_imports([FleetTarget(EAST), FleetTarget(WEST)], connect_with(hub), seen.append)
    assert [partial.done for partial in seen] == [1, 2]
    by_job = {row.job.name: row for row in report.rows if row.job is not None}
    assert set(by_job) == {"east-missing", "west-empty"}, "a clean job is not a failure; each region has its own"
    assert by_job["east-missing"].target.region == EAST and by_job["west-empty"].target.region == WEST
    assert by_job["west-empty"].job.datastore_id == world.stores[WEST]
    assert all(row.status == "FAILED" and row.reason and row.account for row in by_job.values())
    assert "no-such-fleet-bucket" in by_job["east-missing"].reason
    west = report.connection_of(by_job["west-empty"])
    assert west is not None and west.region == WEST
    assert [store.name for store in west.datastores.list()] == ["west-archive"], "the region's own session sees its own data"


def test_a_region_that_cannot_be_read_is_an_error_row_and_the_rest_still_come(world: FleetWorld, hub: Connection) -> None:
    targets = [FleetTarget(WEST, profile="no-such-profile-anywhere"), FleetTarget(WEST)]
    report = gather_failed_imports(targets, connect_with(hub))
    assert report.done == 2
    errors = [row for row in report.rows if row.job is None]
    assert len(errors) == 1 and errors[0].target.profile == "no-such-profile-anywhere"
    assert errors[0].status == "ERROR" and "ProfileNotFound" in errors[0].reason
    assert [row.job.name for row in report.rows if row.job is not None] == ["west-empty"]


def test_sibling_sessions_are_made_once_per_settings(hub: Connection) -> None:
    west = replace(hub.settings, region=WEST)
    assert hub.sibling(west) is hub.sibling(west)
    assert hub.sibling(hub.settings) is hub
    assert hub.sibling(west).call_log is hub.call_log, "the call log shows every region's calls"


def test_fleet_spec_parses_regions_and_profiles() -> None:
    assert parse_fleet("us-east-1,eu-west-1  prod@ap-southeast-2, us-east-1") == [
        FleetTarget("us-east-1"), FleetTarget("eu-west-1"), FleetTarget("ap-southeast-2", "prod"),
    ]  # fmt: skip
    assert FleetTarget("eu-west-1", "prod").label == "prod@eu-west-1"
    for bad in ("useast1", "@eu-west-1", "prod@", "eu-west-1;rm"):
        with pytest.raises(ValueError, match="REGION or PROFILE@REGION"):
            parse_fleet(bad)


def test_one_search_runs_on_every_store_and_a_store_that_fails_is_named(world: FleetWorld, hub: Connection) -> None:
    missing = "f" * 32
    page = search_stores(hub.imagesets, [world.stores[EAST], missing], {})
    assert page.summaries and {summary.datastore_id for summary in page.summaries} == {world.stores[EAST]}
    assert set(page.errors) == {missing} and page.errors[missing].code == "ResourceNotFoundException"
    assert search_stores(hub.imagesets, [world.stores[EAST]], {}, tokens={}).summaries == [], "no store has a next page"
