"""Bulk tagging: mark rows with space, add or remove a tag on all of them, progress, a summary, marks kept on failures."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from console_harness import AppFactory, drive, settle, widget_text
from textual.pilot import Pilot
from textual.widgets import DataTable, ProgressBar

from ahi.screens.bulk_tag import BulkTagDialog
from ahi.screens.datastores import DatastoresScreen
from ahi.screens.tag_form import TagFormDialog
from ahi.screens.taggable import tag_target
from ahi.services.tags import MAX_TAGS_PER_RESOURCE
from ahi.tui.app import AhiApp
from ahi.tui.dialogs.confirm import ConfirmDialog
from ahi.tui.widgets.resource_table import ResourceTable

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
IMAGE_SET_ARN = "arn:aws:medical-imaging:us-east-1:123456789012:datastore/" + "1" * 32 + "/imageset/" + "2" * 32


def arn_of(mi: Any, datastore_id: str) -> str:
    return str(mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreArn"])


def outcome_rows(app: AhiApp) -> list[list[str]]:
    table = app.screen.query_one("#outcomes", DataTable)
    return [[str(getattr(cell, "plain", cell)) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def bulk(pilot: Pilot[Any], key: str, *typed: str, marks: tuple[str, ...]) -> None:
    """Sort by name, mark rows by the keys given ("space" marks, "down" skips), run `key` and confirm."""
    await pilot.press("s", *marks, key)
    assert isinstance(pilot.app.screen, TagFormDialog)
    await pilot.press(*typed, "enter")
    assert isinstance(pilot.app.screen, ConfirmDialog)
    await pilot.press("tab", "enter")
    assert isinstance(pilot.app.screen, BulkTagDialog)


@pytest.fixture
def full_oncology(seeded: dict[str, str], mi: Any) -> dict[str, str]:
    """oncology-trials carries the most tags a resource may have."""
    tags = {f"k{i:02d}": "v" for i in range(MAX_TAGS_PER_RESOURCE)}
    mi.tag_resource(resourceArn=arn_of(mi, seeded["oncology-trials"]), tags=tags)
    return seeded


def test_bulk_add_shows_progress_and_keeps_marks_on_failures(full_oncology: dict[str, str], make_app: AppFactory, mi: Any) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await bulk(pilot, "T", *"project", "tab", *"atlas", marks=("space", "down", "space"))
        assert "Adding tag project=atlas to 2 resources" in widget_text(app.screen.query_one(".title"))
        await settle(pilot)
        assert app.screen.query_one(ProgressBar).progress == 2
        assert "1 changed · 1 failed" in widget_text(app.screen.query_one("#summary"), width=200)
        rows = outcome_rows(app)
        assert rows[0] == ["cardiology-archive", "changed", "added project=atlas"]
        assert rows[1][:2] == ["oncology-trials", "failed"]
        assert "ValidationException" in rows[1][2] and "at most 50 tags per resource (51 requested)" in rows[1][2]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DatastoresScreen)
        table = app.screen.query_one(ResourceTable)
        assert table.marked == {full_oncology["oncology-trials"]}
        assert "1 marked" in widget_text(app.screen.query_one("#status-line"))

    drive(app, scenario)
    assert mi.list_tags_for_resource(resourceArn=arn_of(mi, full_oncology["cardiology-archive"]))["tags"]["project"] == "atlas"
    assert len(mi.list_tags_for_resource(resourceArn=arn_of(mi, full_oncology["oncology-trials"]))["tags"]) == MAX_TAGS_PER_RESOURCE
    assert [r.operation for r in app.call_log.records()].count("TagResource") == 1


def test_bulk_remove_reports_a_store_deleted_meanwhile(seeded: dict[str, str], make_app: AppFactory, mi: Any) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("s", "space", "space", "space")
        mi.delete_datastore(datastoreId=seeded["neuro-research"])
        await pilot.press("U", *"team", "enter", "tab", "enter")
        await settle(pilot)
        rows = outcome_rows(app)
        assert rows[0] == ["cardiology-archive", "changed", "removed team=cardiology"]
        assert rows[1][:2] == ["neuro-research", "failed"] and "ResourceNotFoundException" in rows[1][2]
        assert rows[2] == ["oncology-trials", "unchanged", "had no tag team"]
        assert "1 changed · 1 unchanged · 1 failed" in widget_text(app.screen.query_one("#summary"), width=200)

    drive(app, scenario)
    assert "team" not in mi.list_tags_for_resource(resourceArn=arn_of(mi, seeded["cardiology-archive"]))["tags"]


def test_escape_stops_after_the_current_resource(seeded: dict[str, str], make_app: AppFactory, replace_handler: Any) -> None:
    from ahi.emulator.handlers import HANDLERS

    real = HANDLERS["ListTagsForResource"]
    entered, released = threading.Event(), threading.Event()

    def slow_first(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        if not entered.is_set():
            entered.set()
            released.wait(10)
        return real(ctx, params)

    replace_handler("ListTagsForResource", slow_first)
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await bulk(pilot, "T", *"k", "tab", *"v", marks=("space", "space", "space"))
        assert await asyncio.to_thread(entered.wait, 10)
        await pilot.press("escape")
        released.set()
        await settle(pilot)
        assert [row[1] for row in outcome_rows(app)] == ["changed", "skipped", "skipped"]
        assert "1 changed · 2 skipped" in widget_text(app.screen.query_one("#summary"), width=200)
        await pilot.press("escape")
        assert isinstance(app.screen, DatastoresScreen)
        assert len(app.screen.query_one(ResourceTable).marked) == 2

    drive(app, scenario)


def test_any_row_with_a_taggable_arn_is_a_target() -> None:
    image_set = tag_target(SimpleNamespace(arn=IMAGE_SET_ARN, id="2" * 32))
    assert image_set is not None and image_set.kind == "image set" and image_set.label == "2" * 32
    assert tag_target(SimpleNamespace(arn="arn:aws:s3:::bucket", id="b")) is None
    assert tag_target(SimpleNamespace(id="no-arn")) is None


@pytest.mark.parametrize("size", SIZES)
def test_bulk_summary_snapshot(size: tuple[int, int], full_oncology: dict[str, str], make_app: AppFactory, snap_compare: Any) -> None:
    async def run_bulk(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await bulk(pilot, "T", *"project", "tab", *"atlas", marks=("space", "down", "space"))
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_bulk)
