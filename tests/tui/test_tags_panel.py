"""The tags panel against the local endpoint: add, edit, rename, remove, rules checked first, refusals shown."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import AppFactory, drive, notifications, settle, widget_text
from textual.pilot import Pilot
from textual.widgets import Input

from ahi.screens.tag_form import TagFormDialog
from ahi.screens.tags_panel import TagsPanelScreen
from ahi.services.tags import MAX_TAGS_PER_RESOURCE
from ahi.tui.actions import REGISTRY
from ahi.tui.app import AhiApp
from ahi.tui.dialogs.confirm import ConfirmDialog
from ahi.tui.widgets.error_panel import ErrorPanel
from ahi.tui.widgets.resource_table import ResourceTable

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
CLEAR = ("ctrl+a", "ctrl+k")


def arn_of(mi: Any, datastore_id: str) -> str:
    return str(mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreArn"])


def tag_calls(app: AhiApp) -> list[str]:
    return [r.operation for r in app.call_log.records() if r.operation in ("TagResource", "UntagResource")]


async def open_panel(pilot: Pilot[Any], row: int) -> None:
    """Sort the data stores by name, go to `row` and press `t`."""
    await pilot.press("s", *["down"] * row, "t")
    await settle(pilot)
    assert isinstance(pilot.app.screen, TagsPanelScreen)


def test_add_edit_rename_and_remove(seeded: dict[str, str], make_app: AppFactory, mi: Any) -> None:
    arn = arn_of(mi, seeded["neuro-research"])
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, 1)
        assert "Data stores › Tags: neuro-research" in widget_text(app.screen.query_one("Breadcrumb"))
        assert "2 of 50 tags" in widget_text(app.screen.query_one("#subject"))
        await pilot.press("a")
        assert isinstance(app.screen, TagFormDialog)
        await pilot.press(*"owner", "tab", *"alice", "enter")
        await settle(pilot)
        assert mi.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "research", "team": "neuro", "owner": "alice"}
        assert [row.key for row in app.screen.query_one(ResourceTable).visible_rows] == ["env", "owner", "team"]

        await pilot.press("e")
        assert app.screen.focused.id == "value"
        await pilot.press(*CLEAR, *"production", "shift+tab", *CLEAR, *"stage", "enter")
        await settle(pilot)
        assert mi.list_tags_for_resource(resourceArn=arn)["tags"] == {"stage": "production", "team": "neuro", "owner": "alice"}

        await pilot.press("space", "space", "x")
        assert isinstance(app.screen, ConfirmDialog) and app.screen.focused.id == "cancel"
        assert "owner, stage" in " ".join(widget_text(static) for static in app.screen.query("Static"))
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert mi.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "neuro"}
        assert tag_calls(app) == ["TagResource", "TagResource", "UntagResource", "UntagResource"]
        await pilot.press("y")
        assert '"team": "neuro"' in app.screen.document_text
        await pilot.press("escape", "escape")
        assert app.screen.__class__.__name__ == "DatastoresScreen"

    drive(app, scenario)


def test_rules_are_checked_before_sending(seeded: dict[str, str], make_app: AppFactory, mi: Any) -> None:
    full = {f"k{i:02d}": "v" for i in range(MAX_TAGS_PER_RESOURCE)}
    mi.tag_resource(resourceArn=arn_of(mi, seeded["oncology-trials"]), tags=full)
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, 2)
        assert "50 of 50 tags" in widget_text(app.screen.query_one("#subject"))
        await pilot.press("a", *"one-more", "enter")
        problems = widget_text(app.screen.query_one("#problems"), width=200)
        assert "at most 50 tags per resource (51 requested)" in problems
        await pilot.press("escape", "e", "shift+tab", *CLEAR, *"aws:owner")
        app.screen.query_one("#value", Input).value = "v" * 257  # typing 257 keys would only slow the test
        await pilot.press("enter")
        problems = widget_text(app.screen.query_one("#problems"), width=400)
        assert "tag key 'aws:owner': must not start with 'aws:'" in problems
        assert "tag value of 'aws:owner': must be at most 256 characters" in problems
        await pilot.press(*CLEAR, *"cost center", "enter")
        assert "must not contain ' '" in widget_text(app.screen.query_one("#problems"), width=400)
        assert isinstance(app.screen, TagFormDialog)
        assert tag_calls(app) == []

    drive(app, scenario)


def test_the_services_refusal_is_shown(seeded: dict[str, str], make_app: AppFactory, mi: Any) -> None:
    arn = arn_of(mi, seeded["oncology-trials"])
    mi.tag_resource(resourceArn=arn, tags={f"k{i:02d}": "v" for i in range(MAX_TAGS_PER_RESOURCE - 1)})
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_panel(pilot, 2)
        mi.tag_resource(resourceArn=arn, tags={"added-elsewhere": "meanwhile"})
        await pilot.press("a", *"late", "enter")
        await settle(pilot)
        panel = app.screen.query_one(ErrorPanel)
        assert panel.showing
        text = widget_text(panel, width=300)
        assert "TagResource failed" in text and "ValidationException" in text and "at most 50 tags" in text
        assert any("TagResource: ValidationException" in message for message in notifications(app))
        assert "late" not in mi.list_tags_for_resource(resourceArn=arn)["tags"]

    drive(app, scenario)


def test_read_only_panel_shows_tags_but_changes_nothing(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app("--read-only")

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("s", "down", "colon", *"tags", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TagsPanelScreen) and screen.target.label == "neuro-research"
        shown = {active.binding.action for active in screen.active_bindings.values()}
        for action_id in ("tags_panel.add", "tags_panel.edit", "tags_panel.remove"):
            action = REGISTRY[action_id]
            assert action.method not in shown and screen.check_action(action.method, ()) is False
            await pilot.press(action.keys, "colon", *(action.command or ""), "enter")
            await settle(pilot)
            assert app.screen is screen
        await pilot.press("enter")
        assert app.screen is screen
        assert tag_calls(app) == []
        # Each change is refused out loud twice: once for its key, once for its `:` command.
        refused = [m for m in notifications(app) if m.startswith("Refused")]
        assert len(refused) == 6 and all(m.endswith("the console is read-only.") for m in refused), refused

    drive(app, scenario)


@pytest.mark.parametrize("size", SIZES)
def test_tags_panel_snapshot(size: tuple[int, int], seeded: dict[str, str], make_app: AppFactory, snap_compare: Any) -> None:
    async def panel(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_panel(pilot, 1)

    assert snap_compare(make_app(), terminal_size=size, run_before=panel)


def test_tag_form_problems_snapshot(seeded: dict[str, str], make_app: AppFactory, snap_compare: Any) -> None:
    async def broken(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_panel(pilot, 1)
        await pilot.press("a", *"aws:team", "tab", *"x", "enter")

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=broken)
