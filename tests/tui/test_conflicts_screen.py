"""The conflicts view through Pilot on a re-import conflict, opened from a search result, an image set and a
job: roles, the differing attribute side by side, the job's primary/non-primary counts, read-only refusals,
and the three ways out (fix, promote, delete) with their CLI equivalents in the call log.

One endpoint and one world serve the module (its tests run in order: fix, then promote and delete, then
the tiers, which move the endpoint clock).
"""

from __future__ import annotations

import gzip
import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from conflict_world import ORIGINAL, RENAMED, ConflictWorld, reimport_conflict
from console_harness import AppFactory, drive, notifications, settle, until, widget_text
from local_endpoints import local_clients, quick_config, running
from textual.pilot import Pilot
from textual.widgets import Button, Input

from ahi.emulator.server import LocalEndpoint
from ahi.screens.image_set_detail import ImageSetDetailScreen
from ahi.screens.image_set_search import ImageSetSearchScreen
from ahi.screens.job_detail import JobDetailScreen
from ahi.screens.patch_editor import PatchEditorDialog
from ahi.screens.study_conflicts import StudyConflictsScreen
from ahi.services.conflicts import Member, Sibling
from ahi.tui.dialogs.confirm import ConfirmDialog
from ahi.tui.widgets.lock_banner import LockBanner
from ahi.tui.widgets.resource_table import ResourceTable


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    with running(quick_config(tmp_path_factory.mktemp("conflicts") / "state")) as server:
        yield server


@pytest.fixture(scope="module")
def clients(endpoint: LocalEndpoint) -> tuple[Any, ...]:
    return local_clients(endpoint.url, "medical-imaging", "s3")


@pytest.fixture(scope="module")
def world(clients: tuple[Any, ...]) -> ConflictWorld:
    return reimport_conflict(*clients)


@pytest.fixture(autouse=True)
def quick_banner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LockBanner, "interval_s", 0.05)


def patient_name(mi: Any, world: ConflictWorld, image_set_id: str) -> str:
    blob = mi.get_image_set_metadata(datastoreId=world.datastore_id, imageSetId=image_set_id)["imageSetMetadataBlob"]
    return str(json.loads(gzip.decompress(blob.read()))["Patient"]["DICOM"]["PatientName"])


def rows(pilot: Pilot[Any]) -> list[Any]:
    return [row.resource for row in pilot.app.screen.query_one("#conflict-sets", ResourceTable).visible_rows]


def roles(pilot: Pilot[Any]) -> dict[str, str]:
    table = pilot.app.screen.query_one("#conflict-sets", ResourceTable)
    return {row.key: str(row.cells["role"]) for row in table.visible_rows}


async def open_conflicts(pilot: Pilot[Any], world: ConflictWorld) -> StudyConflictsScreen:
    await pilot.app.push_screen(ImageSetDetailScreen(world.datastore_id, world.non_primary))
    await settle(pilot)
    await pilot.press("f")
    await until(pilot, lambda: isinstance(pilot.app.screen, StudyConflictsScreen) and bool(rows(pilot)), "the conflicts view")
    return pilot.app.screen  # type: ignore[return-value]


async def cursor_on(pilot: Pilot[Any], image_set_id: str) -> None:
    table = pilot.app.screen.query_one("#conflict-sets", ResourceTable)
    keys = [row.key for row in table.visible_rows]
    table.move_cursor(row=keys.index(image_set_id))
    await settle(pilot)


async def press_on(pilot: Pilot[Any], image_set_id: str, key: str, dialog: type) -> Any:
    """Put the cursor on an image set's row, press `key`, and return the dialog it opens."""
    await cursor_on(pilot, image_set_id)
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, dialog), f"the {dialog.__name__}")
    return pilot.app.screen


async def role_in_detail(pilot: Pilot[Any], image_set_id: str) -> str:
    """The role the image set detail's properties name (opened with Enter from the conflicts row, then closed)."""
    await cursor_on(pilot, image_set_id)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ImageSetDetailScreen) and "role" in widget_text(pilot.app.screen.query_one("#properties")), "the detail")
    line = next(line for line in widget_text(pilot.app.screen.query_one("#properties")).splitlines() if line.split()[:1] == ["role"])
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(pilot.app.screen, StudyConflictsScreen), "back to the conflicts")
    return line.split()[1]


def test_the_study_shows_roles_and_the_differing_attribute_side_by_side(world: ConflictWorld, make_app: AppFactory) -> None:
    app = make_app("--read-only")

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *f"sets {ORIGINAL.patient_id}", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ImageSetSearchScreen) and len(pilot.app.screen.summaries) == 2, "the search results")
        found = pilot.app.screen.query_one("#image-sets", ResourceTable)
        assert {row.key: row.plain()["role"] for row in found.visible_rows} == {world.primary: "primary", world.non_primary: "non-primary"}
        assert found.column_labels["role"] == "role"
        await pilot.press("f")
        await until(pilot, lambda: isinstance(pilot.app.screen, StudyConflictsScreen) and bool(rows(pilot)), "the conflicts view")
        screen = pilot.app.screen
        assert roles(pilot) == {world.primary: "primary", world.non_primary: "non-primary"}
        detail_role = await role_in_detail(pilot, world.non_primary)
        assert detail_role == "non-primary"
        assert isinstance(rows(pilot)[0], Member) and isinstance(rows(pilot)[1], Sibling), "the primary first, its sibling under it"
        assert "1 primary, 1 non-primary" in widget_text(screen.query_one("#studies"))
        await cursor_on(pilot, world.non_primary)
        shown = widget_text(screen.query_one("#differences"), width=200)
        assert "PatientName" in shown and ORIGINAL.patient_name in shown and RENAMED.patient_name in shown
        assert "2 instance(s) already in the primary" in shown
        why = str(screen.query_one("#conflict-sets", ResourceTable).current_row.cells["why"])  # type: ignore[union-attr]
        assert why.startswith("Patient: PatientName")

        await pilot.press("P")
        await settle(pilot)
        assert any("Refused: Promote to primary" in n for n in notifications(pilot.app))
        assert not isinstance(pilot.app.screen, ConfirmDialog)

    drive(app, scenario)


def test_the_job_counts_primary_and_non_primary_and_opens_its_conflicts(world: ConflictWorld, make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        job = app.services.imports.get(world.datastore_id, world.reimport_job, "conflict-store")
        await pilot.app.push_screen(JobDetailScreen(job))
        await until(pilot, lambda: "non-primary" in widget_text(pilot.app.screen.query_one("#outcome")), "the job's roles")
        outcome = widget_text(pilot.app.screen.query_one("#outcome"))
        assert re.search(r"^ *primary +0 *$", outcome, re.M) and re.search(r"^ *non-primary +1 *$", outcome, re.M), outcome
        await pilot.press("f")
        await until(pilot, lambda: isinstance(pilot.app.screen, StudyConflictsScreen) and bool(rows(pilot)), "the conflicts view")
        assert roles(pilot) == {world.primary: "primary", world.non_primary: "non-primary"}

    drive(app, scenario)


def test_fix_gives_the_sibling_the_primary_value_with_force(world: ConflictWorld, make_app: AppFactory, clients: tuple[Any, ...]) -> None:
    app = make_app()
    mi = clients[0]

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_conflicts(pilot, world)
        editor = await press_on(pilot, world.non_primary, "u", PatchEditorDialog)
        assert editor.query_one("#value", Input).value == ORIGINAL.patient_name, "prefilled with the primary's value"
        await pilot.press("enter")
        assert editor.query_one("#send", Button).has_focus
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, StudyConflictsScreen) and any("fix done" in n for n in notifications(pilot.app)), "the fix")
        await until(pilot, lambda: any(isinstance(r, Sibling) and not r.differences for r in rows(pilot)), "the refreshed view")
        sibling = next(r for r in rows(pilot) if isinstance(r, Sibling))
        assert sibling.reason() == "duplicates 2 instance(s) of the primary"
        commands = [r.cli_command for r in app.call_log.records() if r.operation == "UpdateImageSetMetadata"]
        assert len(commands) == 1 and "aws medical-imaging update-image-set-metadata" in commands[0] and "--force" in commands[0]

    drive(app, scenario)
    assert patient_name(mi, world, world.non_primary) == ORIGINAL.patient_name


def test_promote_swaps_the_roles_and_the_duplicate_is_deleted_with_its_id_typed(world: ConflictWorld, make_app: AppFactory, clients: tuple[Any, ...]) -> None:
    app = make_app()
    mi = clients[0]

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_conflicts(pilot, world)
        await press_on(pilot, world.non_primary, "P", ConfirmDialog)
        await pilot.press("tab", "enter")
        await until(pilot, lambda: roles(pilot).get(world.primary) == "non-primary" and len(roles(pilot)) == 3, "the roles swapped")
        promoted = next(key for key, role in roles(pilot).items() if role == "primary")
        assert promoted not in (world.primary, world.non_primary), "the promoted copy is a new image set"
        copy = [r.cli_command for r in app.call_log.records() if r.operation == "CopyImageSet"]
        assert len(copy) == 1 and "--promote-to-primary" in copy[0]

        await press_on(pilot, world.non_primary, "D", ConfirmDialog)
        await pilot.press(*world.non_primary, "enter")
        await until(pilot, lambda: world.non_primary not in roles(pilot), "the duplicate gone")
        assert roles(pilot) == {promoted: "primary", world.primary: "non-primary"}

    drive(app, scenario)
    assert mi.get_image_set(datastoreId=world.datastore_id, imageSetId=world.primary)["isPrimary"] is False
    assert mi.get_image_set(datastoreId=world.datastore_id, imageSetId=world.non_primary)["imageSetState"] == "DELETED"


def test_the_view_shows_tiers_and_says_its_reads_moved_archived_image_sets(world: ConflictWorld, endpoint: LocalEndpoint, make_app: AppFactory) -> None:
    advance = urllib.request.Request(f"{endpoint.url}/_ahi/clock", data=json.dumps({"advanceSeconds": 31 * 86400}).encode(), method="POST")
    urllib.request.urlopen(advance, timeout=10).close()
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *f"sets {ORIGINAL.patient_id}", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ImageSetSearchScreen) and len(pilot.app.screen.summaries) == 2, "the search results")
        search = pilot.app.screen
        found = search.query_one("#image-sets", ResourceTable)
        assert {row.plain()["tier"] for row in found.visible_rows} == {"Archive IA"}
        await pilot.press("f")
        await until(pilot, lambda: isinstance(pilot.app.screen, StudyConflictsScreen) and bool(rows(pilot)), "the conflicts view")
        table = pilot.app.screen.query_one("#conflict-sets", ResourceTable)
        assert {row.plain()["tier"] for row in table.visible_rows} == {"Frequent"}, "the view's own metadata reads moved them"
        moved = [n for n in notifications(app) if n.startswith("Reading the study's metadata moved image set(s)")]
        seed = str(found.current_row.key)  # type: ignore[union-attr]
        assert f"This read moves image set {seed} from Archive Instant Access to Frequent Access" in notifications(app)
        other = next(key for key in found_keys(found) if key != seed)
        assert len(moved) == 1 and other in moved[0] and seed not in moved[0], moved
        assert moved[0].endswith("from Archive Instant Access to Frequent Access")
        assert {row.plain()["tier"] for row in found.visible_rows} == {"Frequent"}, "the search rows below redrawn"

        # Whichever is non-primary now: the earlier tests of the module may have swapped the roles.
        await cursor_on(pilot, next(key for key, role in roles(pilot).items() if role == "non-primary"))
        await pilot.press("P")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("tab", "enter")
        await until(pilot, lambda: any("promote done" in n for n in notifications(app)), "the promotion")
        assert len([n for n in notifications(app) if "This read moves image set" in n]) == 1, "no notice once the view has read them"

    drive(app, scenario)


def found_keys(table: ResourceTable) -> list[str]:
    return [str(row.key) for row in table.visible_rows]
