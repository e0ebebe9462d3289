"""Read-only mode leaves no gap: every mutating action in the registry is hidden everywhere and refused."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import AppFactory, drive, notifications, settle, widget_text
from textual.pilot import Pilot

from tui.actions import REGISTRY, Action
from tui.commands import RegistryCommands, complete
from tui.dialogs.help import HelpScreen
from tui.navigation import SCREENS, load_screens
from tui.screen_base import AhiScreen

load_screens()


def screen_classes() -> dict[str, type[AhiScreen]]:
    """Scope name -> the screen class that implements it (every registered screen and its children)."""
    found: dict[str, type[AhiScreen]] = {}

    def walk(cls: type[AhiScreen]) -> None:
        if cls.SCOPE:
            found[cls.SCOPE] = cls
        for sub in cls.__subclasses__():
            walk(sub)

    walk(AhiScreen)
    return found


MUTATING = [action for action in REGISTRY if action.mutates]


def test_registry_has_mutating_actions_and_each_is_guarded() -> None:
    assert {a.id for a in MUTATING} >= {"datastores.create", "datastores.delete"}
    classes = screen_classes()
    for action in MUTATING:
        owner = classes[action.scope]
        method = getattr(owner, f"action_{action.method}")
        assert getattr(method, "__ahi_mutating__", None) == action.id, f"{action.id} is not guarded"


def test_every_action_has_an_implementation() -> None:
    classes = screen_classes()
    from tui.app import AhiApp
    from tui.widgets.resource_table import ResourceTable

    owners: dict[str, Any] = {"app": AhiApp, "screen": AhiScreen, "table": ResourceTable, **classes}
    for action in REGISTRY:
        assert hasattr(owners[action.scope], f"action_{action.method}"), action.id


def test_read_only_hides_and_refuses_every_mutating_action(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app("--read-only")

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = app.screen
        assert isinstance(screen, AhiScreen)
        footer_keys = {active.binding.action for active in app.screen.active_bindings.values()}
        assert "refresh" in footer_keys
        for action in [a for a in MUTATING if a.scope in screen.scopes()]:
            assert screen.check_action(action.method, ()) is False
            assert action.method not in footer_keys
            assert not [c for c in complete(app, action.command or action.method) if c == action.command]
        palette = [title for title, _help, _cb in RegistryCommands(app.screen)._entries()]  # noqa: SLF001
        for action in MUTATING:
            assert action.description not in palette
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = widget_text(app.screen.query_one("Static"))
        assert "READ-ONLY" in help_text
        for action in MUTATING:
            assert action.description not in help_text
        await pilot.press("escape")
        before = len(app.call_log.records())
        for action in [a for a in MUTATING if a.scope in screen.scopes()]:
            await pilot.press(action.keys.split(",")[0])
            await settle(pilot)
            assert app.screen is screen, f"{action.id} opened something"
            await pilot.press("colon", *(action.command or ""), "enter")
            await settle(pilot)
            assert app.screen is screen
            getattr(screen, f"action_{action.method}")()
            await settle(pilot)
        assert [r for r in app.call_log.records()[before:] if r.operation != "ListDatastores"] == []
        refusals = [m for m in notifications(app) if m.startswith("Refused")]
        assert len(refusals) >= len([a for a in MUTATING if a.scope in screen.scopes()])
        assert "READ-ONLY" in widget_text(screen.query_one("ContextHeader"))

    drive(app, scenario)


def test_without_read_only_the_same_actions_are_offered(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        screen = app.screen
        for action in [a for a in MUTATING if a.scope in screen.scopes()]:
            assert screen.check_action(action.method, ()) is True
            assert action.command in complete(app, action.command or "")
        palette = [title for title, _help, _cb in RegistryCommands(app.screen)._entries()]  # noqa: SLF001
        assert "Create data store" in palette

    drive(app, scenario)

