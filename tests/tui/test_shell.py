"""The shell: command line, call log, error panels per code, keymap, header, auto-refresh."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import AppFactory, drive, notifications, settle, widget_text
from textual.pilot import Pilot

from ahi.emulator.errors import ServiceError
from ahi.screens.datastores import DatastoresScreen
from ahi.tui.call_log import CallLogScreen
from ahi.tui.config import ConsoleConfig
from ahi.tui.widgets.error_panel import ErrorPanel
from ahi.tui.widgets.prompt_bar import CommandLine
from ahi.tui.widgets.resource_table import ResourceTable

ERROR_CODES = [
    ("AccessDeniedException", 403),
    ("ThrottlingException", 429),
    ("InternalServerException", 500),
    ("ValidationException", 400),
    ("ResourceNotFoundException", 404),
]


@pytest.mark.parametrize(("code", "status"), ERROR_CODES)
def test_error_panel_names_call_and_code(
    code: str, status: int, seeded: dict[str, str], make_app: AppFactory, replace_handler: Any
) -> None:
    def failing(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        raise ServiceError(f"injected {code}", code=code)

    replace_handler("ListDatastores", failing)
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        panel = app.screen.query_one(ErrorPanel)
        assert panel.showing
        text = widget_text(panel)
        assert "ListDatastores failed" in text and code in text and f"injected {code}" in text
        await pilot.press("question_mark")
        assert app.screen.__class__.__name__ == "HelpDialog"
        await pilot.press("escape", "r")
        await settle(pilot)
        assert isinstance(app.screen, DatastoresScreen)

    drive(app, scenario)


def test_error_clears_when_the_service_recovers(seeded: dict[str, str], make_app: AppFactory, replace_handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ahi.emulator.handlers import HANDLERS

    real = HANDLERS["ListDatastores"]

    def failing(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        raise ServiceError("down", code="InternalServerException")

    replace_handler("ListDatastores", failing)
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        assert app.screen.query_one(ErrorPanel).showing
        HANDLERS["ListDatastores"] = real
        await pilot.press("r")
        await settle(pilot)
        assert not app.screen.query_one(ErrorPanel).showing
        assert len(app.screen.query_one(ResourceTable).rows_all) == 3

    drive(app, scenario)


def test_command_line_completes_and_navigates(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", "l", "o", "tab")
        line = app.screen.query_one(CommandLine)
        assert line.value == "log"
        await pilot.press("enter")
        assert isinstance(app.screen, CallLogScreen)
        await pilot.press("colon", *"ds", "enter")
        assert isinstance(app.screen, DatastoresScreen)
        await pilot.press("colon", *"nonsense", "enter")
        assert any("Unknown command :nonsense" in m for m in notifications(app))
        await pilot.press("colon", *"profile no-such-profile", "enter")
        assert any("no-such-profile" in m for m in notifications(app))
        await pilot.press("colon", "q", "enter")
        await pilot.pause()
        assert app.return_code == 0

    drive(app, scenario)


def test_region_switch_reconnects(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *"region eu-west-1", "enter")
        await settle(pilot)
        assert app.services.region == "eu-west-1"
        assert app.screen.query_one(ResourceTable).rows_all == []
        assert "eu-west-1" in widget_text(app.screen.query_one("ContextHeader"))
        assert "--region eu-west-1" in app.call_log.records()[-1].cli_command or any(
            "--region eu-west-1" in r.cli_command for r in app.call_log.records()
        )

    drive(app, scenario)


def test_call_log_lists_calls_and_copies_the_command(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, CallLogScreen)
        rows = app.screen.query_one(ResourceTable).rows_all
        assert any(row.resource.operation == "ListDatastores" for row in rows)
        await pilot.press("c")
        assert app.clipboard.startswith("aws ")
        assert "--endpoint-url" in app.clipboard
        await pilot.press("escape")
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert len(app.screen.query_one(ResourceTable).rows_all) > len(rows)

    drive(app, scenario)


def test_keymap_remaps_by_action_id(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app(config=ConsoleConfig(keymap={"screen.filter": "f3", "datastores.create": "ctrl+n"}))

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        assert app.screen.query_one("#filter-bar").is_open
        await pilot.press("escape", "ctrl+n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CreateDatastoreDialog"

    drive(app, scenario)


def test_auto_refresh_rearms_after_each_refresh(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app("--refresh", "15")

    def list_calls() -> int:
        return len([r for r in app.call_log.records() if r.operation == "ListDatastores"])

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = app.screen
        first = list_calls()
        assert screen.refresh_due == 15
        app.clock.advance(10)
        screen.tick()
        await settle(pilot)
        assert list_calls() == first
        assert "refreshed 10 s ago" in widget_text(screen.query_one("StatusLine"))
        app.clock.advance(5)
        screen.tick()
        assert screen.refresh_due is None  # in flight: nothing armed until it ends
        await settle(pilot)
        assert list_calls() == first + 1
        assert screen.refresh_due == 30
        await pilot.press("p")
        assert "paused" in widget_text(screen.query_one("StatusLine"))
        app.clock.advance(60)
        screen.tick()
        await settle(pilot)
        assert list_calls() == first + 1
        await pilot.press("p")
        assert screen.refresh_due == 90

    drive(app, scenario)


def test_header_shows_context(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        header = widget_text(app.screen.query_one("ContextHeader"))
        assert "account 123456789012" in header and "region us-east-1" in header
        assert "local http://127.0.0.1:4599" in header
        assert "READ-ONLY" not in header

    drive(app, scenario)
