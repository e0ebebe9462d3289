"""The fleet screen and `:export` through Pilot: two regions of one local endpoint, a failed job in each."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from console_harness import AppFactory, click, drive, notifications, settle
from fleet_world import EAST, WEST, FleetWorld, active_store, ended_job, region_clients
from fleet_world import endpoint, world  # noqa: F401 - the module's shared endpoint and fleet
from image_set_world import PATIENT_B
from textual.pilot import Pilot

from ahi.emulator.demo.phantoms import ct_series
from ahi.emulator.server import LocalEndpoint
from ahi.screens.fleet import FleetScreen
from ahi.screens.fleet_job_detail import FleetJobDetailScreen
from ahi.screens.image_set_detail import ImageSetDetailScreen
from ahi.tui.config import ConfigError, parse_config
from ahi.tui.dialogs.confirm import ConfirmDialog
from ahi.tui.widgets.error_panel import ErrorPanel
from ahi.tui.widgets.resource_table import ResourceTable


async def command(pilot: Pilot[Any], text: str) -> None:
    await pilot.press("colon")
    await pilot.press(*text)
    await pilot.press("enter")
    await settle(pilot)


def shown(pilot: Pilot[Any]) -> dict[str, dict[str, str]]:
    """job name (or `ERROR@region`) -> plain cells of the fleet table's visible rows."""
    table = pilot.app.screen.query_one(ResourceTable)
    return {row.plain()["job"] if row.resource.job else f"ERROR@{row.plain()['region']}": row.plain() for row in table.visible_rows}


async def cursor_to(pilot: Pilot[Any], column: str, value: str) -> None:
    """Move the cursor down, as a person would, to the first row whose `column` shows `value`."""
    table = pilot.app.screen.query_one(ResourceTable)
    for _ in range(len(table.visible_rows)):
        if table.current_row is not None and table.current_row.plain()[column] == value:
            return
        await pilot.press("down")
    assert table.current_row is not None and table.current_row.plain()[column] == value, f"no row with {column} {value}"


def status_line(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#status-line").content)


def test_failed_jobs_of_both_regions_in_one_table_and_a_row_opens_in_its_region(world: FleetWorld, make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await command(pilot, f":fleet {EAST},{WEST}")
        assert isinstance(app.screen, FleetScreen)
        rows = shown(pilot)
        assert set(rows) == {"east-missing", "west-empty"}, "the clean job is not listed; each region's failure is"
        assert (rows["east-missing"]["region"], rows["west-empty"]["region"]) == (EAST, WEST)
        assert rows["west-empty"]["status"] == "FAILED" and rows["west-empty"]["datastore"] == "west-archive"
        assert "no-such-fleet-bucket" in rows["east-missing"]["reason"]
        assert rows["east-missing"]["where"].startswith("default · ")
        assert "2/2 regions" in status_line(pilot)

        await cursor_to(pilot, "job", "west-empty")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FleetJobDetailScreen) and screen.elsewhere
        assert screen.job.id == world.jobs["west-empty"] and screen.job.status == "FAILED"
        assert screen.connection.region == WEST
        assert not screen.query_one(ErrorPanel).showing, "GetDICOMImportJob went to the job's own region"
        await pilot.press("f")
        assert any(f":region {WEST}" in note for note in notifications(app)), "another region's follow-on screens say how to get there"

    drive(app, scenario)


def test_a_region_that_cannot_be_read_is_a_row_and_no_fleet_named_is_explained(world: FleetWorld, make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await command(pilot, ":fleet")
        assert app.screen.query_one(ErrorPanel).showing, "no fleet named: the screen says how to name one"
        await command(pilot, f":fleet nobody-here@{WEST},{WEST}")
        rows = shown(pilot)
        assert set(rows) == {"west-empty", f"ERROR@{WEST}"}
        assert "ProfileNotFound" in rows[f"ERROR@{WEST}"]["reason"]
        assert "2/2 regions · 1 error(s)" in status_line(pilot)

    drive(app, scenario)


def test_the_configured_fleet_is_used_and_any_table_exports(
    world: FleetWorld, make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app("--fleet", f"{WEST} {EAST}")
    monkeypatch.chdir(tmp_path)  # short paths to type: a relative path is written below the working directory
    path = Path("f.csv")

    async def scenario(pilot: Pilot[Any]) -> None:
        await command(pilot, ":fleet")
        assert set(shown(pilot)) == {"east-missing", "west-empty"}
        await command(pilot, f":export {path}")
        rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
        assert [row["region"] for row in rows] == [WEST, EAST], "rows as shown, in the order the fleet was named"
        assert rows[0]["job"] == "west-empty" and rows[0]["id"] == world.jobs["west-empty"]

        await pilot.press("slash", *"east", "enter")
        await command(pilot, f":export {path}")
        assert isinstance(app.screen, ConfirmDialog), "an existing file is replaced only after a confirm"
        await pilot.press("escape")
        await settle(pilot)
        assert len(list(csv.DictReader(path.open(encoding="utf-8")))) == 2, "cancelled: the file is untouched"
        await command(pilot, f":export {path}")
        await click(pilot, "#confirm")
        await settle(pilot)
        assert [row["job"] for row in csv.DictReader(path.open(encoding="utf-8"))] == ["east-missing"], "the filter applies"

        await command(pilot, ":export f.json")
        assert [row["job"] for row in json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))] == ["east-missing"]
        await command(pilot, ":export f.xlsx")
        assert any(".xlsx" in note for note in notifications(app)) and not (tmp_path / "f.xlsx").exists()

    drive(app, scenario)


def test_the_fleet_setting_is_checked_when_the_config_is_read(tmp_path: Path) -> None:
    assert parse_config('fleet = "us-east-1, prod@eu-west-1"\n', tmp_path / "c.toml").fleet == "us-east-1, prod@eu-west-1"
    with pytest.raises(ConfigError, match="fleet: 'useast' is not REGION or PROFILE@REGION"):
        parse_config('fleet = "useast"\n', tmp_path / "c.toml")


@pytest.fixture(scope="module")
def second_store(endpoint: LocalEndpoint, world: FleetWorld) -> str:
    """A second us-east-1 data store with one image set of another patient."""
    mi, s3 = region_clients(endpoint.url, EAST, "medical-imaging", "s3")
    for name, data in ct_series(1, 16, subject=PATIENT_B):
        s3.put_object(Bucket="fleet-input", Key=f"second/{name}", Body=data)
    store = active_store(mi, "east-second")
    ended_job(mi, store, "east-second", "s3://fleet-input/second/")
    return store


def test_one_search_covers_every_data_store_and_each_row_names_its_store(
    world: FleetWorld, second_store: str, make_app: AppFactory
) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await command(pilot, ":sets *")
        table = app.screen.query_one(ResourceTable)
        by_patient = {row.plain()["patient_id"]: row.plain()["datastore"] for row in table.visible_rows}
        assert by_patient == {"AHI-DEMO-001": "east-archive", PATIENT_B.patient_id: "east-second"}
        assert [column.key for column in table.resource_columns][0] == "datastore"
        await cursor_to(pilot, "datastore", "east-second")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ImageSetDetailScreen) and app.screen.datastore_id == second_store

    drive(app, scenario)
