"""The version diff and storage tiers through Pilot on a small imported world: the diff after an update
(cursor vs latest, and two marked versions), the tier and last access in the search table and the detail,
the access notice before a metadata read in Archive Instant Access, and the data store's count per tier.

One endpoint and one world serve the module; the tier test moves the endpoint clock, so it runs last.
"""

from __future__ import annotations

import io
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from console_harness import AppFactory, drive, notifications, settle, until, widget_text
from image_set_world import PATIENT_A, World, import_world, wait_until_active
from local_endpoints import quick_config, running
from rich.console import Console
from textual.pilot import Pilot

from ahi.emulator.server import LocalEndpoint
from ahi.screens.datastore_detail import DatastoreDetailScreen
from ahi.screens.image_set_detail import ImageSetDetailScreen
from ahi.screens.image_set_search import ImageSetSearchScreen
from ahi.screens.metadata_view import MetadataViewScreen
from ahi.screens.version_diff import VersionDiff, VersionDiffScreen, diff_text
from ahi.services.metadata_diff import diff
from ahi.tui.widgets.resource_table import ResourceTable

THIRTY_ONE_DAYS = 31 * 86400


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    with running(quick_config(tmp_path_factory.mktemp("tiers") / "state")) as server:
        yield server


@pytest.fixture(scope="module")
def clients(endpoint: LocalEndpoint) -> tuple[Any, Any]:
    options: dict[str, Any] = {
        "region_name": "us-east-1", "endpoint_url": endpoint.url, "aws_access_key_id": "t", "aws_secret_access_key": "t",
        "config": Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
    }  # fmt: skip
    return boto3.client("medical-imaging", **options), boto3.client("s3", **options)


@pytest.fixture(scope="module")
def world(clients: tuple[Any, Any]) -> World:
    """The image set world, with the CT renamed and its study description removed by one update (version 2)."""
    mi, s3 = clients
    built = import_world(mi, s3, "versions-tiers")
    updates = {
        "DICOMUpdates": {
            "updatableAttributes": json.dumps(
                {"SchemaVersion": 1.1, "Patient": {"DICOM": {"PatientName": "Renamed^Person"}}}
            ).encode()
        }
    }
    mi.update_image_set_metadata(datastoreId=built.datastore_id, imageSetId=built.ct, latestVersionId="1", updateImageSetMetadataUpdates=updates)
    assert wait_until_active(mi, built.datastore_id, built.ct)["versionId"] == "2"
    return built


def diff_shown(pilot: Pilot[Any]) -> str:
    return widget_text(pilot.app.screen.query_one("#diff"), width=200)


async def open_ct_detail(pilot: Pilot[Any], world: World) -> ImageSetDetailScreen:
    await pilot.press("colon", *f"sets {PATIENT_A.patient_id}", "enter")
    await settle(pilot)
    table = pilot.app.screen.query_one("#image-sets", ResourceTable)
    table.move_cursor(row=[row.key for row in table.visible_rows].index(world.ct))
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ImageSetDetailScreen)
    pilot.app.screen.query_one("#versions", ResourceTable).focus()
    return pilot.app.screen


def test_the_diff_lists_what_an_update_changed_by_level(world: World, make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        detail = await open_ct_detail(pilot, world)
        assert "d diffs" in widget_text(detail.query_one("#versions-title"))
        await pilot.press("d")
        assert notifications(app)[-1].startswith("Mark two versions")
        await pilot.press("j", "d")
        await settle(pilot)
        assert isinstance(app.screen, VersionDiffScreen)
        shown = diff_shown(pilot)
        assert "Version 1 → version 2: 1 change (0 added, 1 changed, 0 removed)" in shown
        assert "Patient  1 change" in shown
        assert "~ PatientName  Phantom, Shepp Logan → Renamed, Person" in shown
        reads = [r for r in app.call_log.records() if r.operation == "GetImageSetMetadata"]
        assert len(reads) == 2 and all(r.ok for r in reads)
        await pilot.press("escape")
        await pilot.press("space", "k", "space", "d")
        await settle(pilot)
        assert isinstance(app.screen, VersionDiffScreen) and (app.screen.old_version, app.screen.new_version) == ("1", "2")
        assert "~ PatientName" in diff_shown(pilot)

    drive(app, scenario)


def test_tiers_show_in_tables_and_an_archived_read_says_it_moves_the_image_set(
    world: World, endpoint: LocalEndpoint, make_app: AppFactory
) -> None:
    advance = urllib.request.Request(f"{endpoint.url}/_ahi/clock", data=json.dumps({"advanceSeconds": THIRTY_ONE_DAYS}).encode(), method="POST")
    urllib.request.urlopen(advance, timeout=10).close()
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DatastoreDetailScreen)
        tiers = widget_text(app.screen.query_one("#tiers"))
        assert "Storage tiers (all 3 image sets)" in tiers
        assert [line.split() for line in tiers.splitlines()[1:3]] == [["Frequent", "Access", "0"], ["Archive", "Instant", "Access", "3"]]
        await pilot.press("escape")
        detail = await open_ct_detail(pilot, world)
        search = app.screen_stack[-2]
        assert isinstance(search, ImageSetSearchScreen)
        cells = {row.key: row.plain() for row in search.query_one("#image-sets", ResourceTable).visible_rows}
        assert cells[world.ct]["tier"] == "Archive IA" and cells[world.ct]["accessed"] not in ("", "—")
        properties = widget_text(detail.query_one("#properties"))
        assert "storage tier" in properties and "Archive Instant Access" in properties
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, MetadataViewScreen)
        assert f"This read moves image set {world.ct} from Archive Instant Access to Frequent Access" in notifications(app)
        await pilot.press("escape")
        await settle(pilot)
        assert "Frequent Access" in widget_text(detail.query_one("#properties"))
        before = len(notifications(app))
        await pilot.press("m")
        await settle(pilot)
        assert not [n for n in notifications(app)[before:] if "moves image set" in n]
        await pilot.press("escape", "escape")
        await settle(pilot)
        table = search.query_one("#image-sets", ResourceTable)
        table.move_cursor(row=[row.key for row in table.visible_rows].index(world.image_sets["us"]))
        await pilot.press("v")
        await settle(pilot)
        assert notifications(app)[-1] == f"This read moves image set {world.image_sets['us']} from Archive Instant Access to Frequent Access"

        await pilot.press("escape")
        await settle(pilot)
        tiers_now = {row.key: row.plain()["tier"] for row in table.visible_rows}
        assert tiers_now == {world.ct: "Frequent", world.image_sets["us"]: "Frequent"}, "both rows redrawn after their reads"
        before = len(notifications(app))
        await pilot.press("v")
        await settle(pilot)
        assert not [n for n in notifications(app)[before:] if "moves image set" in n]
        await pilot.press("escape")

        ct2 = world.image_sets["ct2"]
        await app.push_screen(ImageSetDetailScreen(world.datastore_id, ct2))
        await until(pilot, lambda: "Archive Instant Access" in widget_text(app.screen.query_one("#properties")), "the second CT's detail")
        await pilot.press("w")
        await until(pilot, lambda: any("/studies/" in n for n in notifications(app)), "the URL copied")
        assert f"This read moves image set {ct2} from Archive Instant Access to Frequent Access" in notifications(app)
        properties = widget_text(app.screen.query_one("#properties"))
        assert "Frequent Access" in properties and "Archive" not in properties, "the header redrawn without a refresh"
        before = len(notifications(app))
        await pilot.press("w")
        await until(pilot, lambda: len(notifications(app)) > before, "the URL copied again")
        assert not [n for n in notifications(app)[before:] if "moves image set" in n]

    drive(app, scenario)


def test_the_list_stops_at_its_limit_and_draws_foreign_text_literally() -> None:
    old = {"Patient": {"DICOM": {f"K{i}": "a" for i in range(5)}}}
    new = {"Patient": {"DICOM": {f"K{i}": "b\x1b[31m[bold]x" for i in range(5)}}}
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    console.print(diff_text(VersionDiff("1", "2", diff(old, new)), limit=3))
    shown = console.export_text()
    assert "5 changes (0 added, 5 changed, 0 removed)" in shown
    assert shown.count("~ K") == 3 and "… 2 more changes not listed (the list stops at 3)" in shown
    assert "\x1b" not in shown and "[bold]x" in shown
