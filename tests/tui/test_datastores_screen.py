"""The data stores screen driven by keys through Pilot, against the seeded local endpoint."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from console_harness import AppFactory, drive, notifications, settle, widget_text
from textual.pilot import Pilot

from ahi.emulator.errors import ConflictException
from ahi.screens.datastore_detail import DatastoreDetailScreen
from ahi.screens.datastores import DatastoresScreen
from ahi.tui.dialogs.confirm import ConfirmDialog
from ahi.tui.widgets.error_panel import ErrorPanel
from ahi.tui.widgets.resource_table import ResourceTable


def names(app: Any) -> list[str]:
    return [row.resource.name for row in app.screen.query_one(ResourceTable).visible_rows]


def test_lists_every_store_with_format_and_key(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        table = app.screen.query_one(ResourceTable)
        cells = {row.resource.name: row.plain() for row in table.visible_rows}
        assert set(cells) == set(seeded)
        assert cells["neuro-research"]["kms"] == "alias/neuro"
        assert cells["cardiology-archive"]["kms"] == "AWS owned"
        assert cells["oncology-trials"]["format"] == "JPEG_2000_LOSSLESS"
        assert cells["cardiology-archive"]["status"] == "ACTIVE"

    drive(app, scenario)


def test_rows_come_before_their_details_and_columns_widen_for_them(
    seeded: dict[str, str], make_app: AppFactory, replace_handler: Any
) -> None:
    """GetDatastore per new store (and KMS for its key) comes after the first paint of the rows."""
    from ahi.emulator.handlers import HANDLERS

    details_allowed = threading.Event()
    get_datastore = HANDLERS["GetDatastore"]

    def slow_get(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        details_allowed.wait(30)
        return get_datastore(ctx, params)

    replace_handler("GetDatastore", slow_get)
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        table = app.screen.query_one(ResourceTable)
        while table.row_count < len(seeded):
            await pilot.pause(0.02)
        early = {row.resource.name: row.plain() for row in table.visible_rows}
        assert early["oncology-trials"]["format"] == "…"
        details_allowed.set()
        await settle(pilot)
        late = {row.resource.name: row.plain() for row in table.visible_rows}
        assert late["oncology-trials"]["format"] == "JPEG_2000_LOSSLESS"
        assert late["neuro-research"]["kms"] == "alias/neuro"
        assert table.columns["kms"].width == len("alias/neuro")  # type: ignore[index]

    async def main() -> None:
        async with app.run_test(size=(160, 40)) as pilot:
            await scenario(pilot)

    asyncio.run(main())


def test_enter_drills_down_and_escape_goes_back(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DatastoreDetailScreen)
        assert app.screen.datastore.name == "neuro-research"
        assert "Data stores › neuro-research" in widget_text(app.screen.query_one("Breadcrumb"))
        detail = " ".join(widget_text(w) for w in app.screen.query("#detail Static"))
        assert "env" in detail and "research" in detail and "alias/neuro" in detail and "Enabled" in detail
        await pilot.press("escape")
        assert isinstance(app.screen, DatastoresScreen)

    drive(app, scenario)


def test_filter_in_place_and_escape_clears(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("slash", *"neuro")
        assert names(app) == ["neuro-research"]
        await pilot.press("ctrl+a", "ctrl+k", *"!kms:aws")
        assert names(app) == ["neuro-research"]
        await pilot.press("ctrl+a", "ctrl+k", *"format:jpeg")
        assert names(app) == ["oncology-trials"]
        await pilot.press("enter")
        assert names(app) == ["oncology-trials"]
        await pilot.press("escape")
        assert len(names(app)) == 3

    drive(app, scenario)


def test_keyboard_sort(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("s")
        assert names(app) == sorted(seeded)
        await pilot.press("S")
        assert names(app) == sorted(seeded, reverse=True)

    drive(app, scenario)


def test_sort_order_is_remembered_between_runs(seeded: dict[str, str], make_app: AppFactory, private_state_home: Any) -> None:
    """The next start shows the table sorted as it was left; filters are not kept (they would hide rows)."""
    first = make_app()

    async def sort_descending(pilot: Pilot[Any]) -> None:
        await pilot.press("s", "S", "slash", *"neuro", "enter")
        await first.workers.wait_for_complete()
        assert names(first) == ["neuro-research"]

    drive(first, sort_descending)
    views = private_state_home / "ahi" / "views.json"
    assert json.loads(views.read_text()) == {"sorts": {"datastores/datastores": {"column": "name", "reverse": True}}}
    assert views.stat().st_mode & 0o777 == 0o600
    second = make_app()

    async def check(pilot: Pilot[Any]) -> None:
        assert names(second) == sorted(seeded, reverse=True)
        assert "sort: name ▼" in widget_text(second.screen.query_one("StatusLine"))

    drive(second, check)


def test_a_change_made_during_a_refresh_is_followed_by_another(
    seeded: dict[str, str], make_app: AppFactory, replace_handler: Any, mi: Any
) -> None:
    """The running refresh may have read before the change (a store just created): one more follows it."""
    from ahi.emulator.handlers import HANDLERS

    listing_allowed = threading.Event()
    list_datastores = HANDLERS["ListDatastores"]
    calls: list[int] = []

    def gated_list(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        answer = list_datastores(ctx, params)
        calls.append(1)
        listing_allowed.wait(30)
        return answer

    replace_handler("ListDatastores", gated_list)
    app = make_app()

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            while not calls:
                await pilot.pause(0.02)
            mi.create_datastore(datastoreName="made-meanwhile", clientToken="meanwhile")
            app.screen.refresh_after_change()  # the running refresh read before this store existed
            listing_allowed.set()
            await settle(pilot)
            await settle(pilot)
            assert len(calls) == 2
            assert "made-meanwhile" in names(app)

    asyncio.run(main())


def test_refresh_keeps_cursor_filter_and_marks(seeded: dict[str, str], make_app: AppFactory, mi: Any) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("s", "down", "down", "space", "up")
        table = app.screen.query_one(ResourceTable)
        assert table.current_row.resource.name == "neuro-research"
        mi.create_datastore(datastoreName="aaa-first", clientToken="aaa")
        await pilot.press("r")
        await settle(pilot)
        assert names(app)[0] == "aaa-first"
        assert table.current_row.resource.name == "neuro-research"
        assert [row.resource.name for row in table.marked_rows] == ["oncology-trials"]

    drive(app, scenario)


def test_create_flow_validates_then_creates(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"bad name", "enter")
        problems = widget_text(app.screen.query_one("#problems"))
        assert "datastoreName" in problems
        assert not any(r.operation == "CreateDatastore" for r in app.call_log.records())
        await pilot.press(*["backspace"] * 8, *"radiology", "tab", "tab", "tab", *"team=rad", "enter")
        await settle(pilot)
        assert "radiology" in names(app)
        created = [r for r in app.call_log.records() if r.operation == "CreateDatastore"]
        assert len(created) == 1 and created[0].ok
        assert "team=rad" not in created[0].cli_command

    drive(app, scenario)


def test_create_with_customer_key_from_the_list(seeded: dict[str, str], make_app: AppFactory, mi: Any) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("n")
        await settle(pilot)
        select = app.screen.query_one("#key")
        labels = [str(option[0]) for option in select._options]  # noqa: SLF001
        assert any("alias/neuro" in label for label in labels)
        select.value = next(value for label, value in select._options if "alias/neuro" in str(label))  # noqa: SLF001
        await pilot.press(*"encrypted", "enter")
        await settle(pilot)
        store = next(row.resource for row in app.screen.query_one(ResourceTable).rows_all if row.resource.name == "encrypted")
        assert store.kms_key_arn and ":key/" in store.kms_key_arn

    drive(app, scenario)


def test_delete_needs_the_typed_id(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("s", "D")
        assert isinstance(app.screen, ConfirmDialog)
        assert app.screen.focused.id == "typed"
        await pilot.press(*"wrong", "enter")
        assert isinstance(app.screen, ConfirmDialog)
        assert "does not match" in widget_text(app.screen.query_one("#problem"))
        await pilot.press(*["backspace"] * 5, *seeded["cardiology-archive"], "enter")
        await settle(pilot)
        statuses = {row.resource.name: row.resource.status for row in app.screen.query_one(ResourceTable).rows_all}
        assert statuses["cardiology-archive"] in ("DELETING", "DELETED")

    drive(app, scenario)


def test_delete_refusal_is_shown(seeded: dict[str, str], make_app: AppFactory, replace_handler: Any) -> None:
    def refuse(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        raise ConflictException("Data store still holds 4 image sets; delete them first")

    replace_handler("DeleteDatastore", refuse)
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("s", "D", *seeded["cardiology-archive"], "enter")
        await settle(pilot)
        panel = app.screen.query_one(ErrorPanel)
        assert panel.showing
        text = widget_text(panel)
        assert "DeleteDatastore failed" in text and "ConflictException" in text and "image sets" in text
        assert any("ConflictException" in message for message in notifications(app))

    drive(app, scenario)


def test_copy_and_raw_json(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("s", "c")
        assert app.clipboard == seeded["cardiology-archive"]
        await pilot.press("C")
        assert app.clipboard == f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{seeded['cardiology-archive']}"
        await pilot.press("y")
        assert '"datastoreName": "cardiology-archive"' in app.screen.document_text
        assert '"losslessStorageFormat": "HTJ2K"' in app.screen.document_text

    drive(app, scenario)


def test_status_filter_is_server_side(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *"ds deleted", "enter")
        await settle(pilot)
        assert names(app) == []
        assert "--datastore-status DELETED" in app.call_log.records()[-1].cli_command
        await pilot.press("f")
        await settle(pilot)
        assert len(names(app)) == 3

    drive(app, scenario)
