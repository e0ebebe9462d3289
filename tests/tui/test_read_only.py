"""Read-only mode leaves no gap: every mutating action in the registry is hidden everywhere and refused."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import AppFactory, drive, settle, widget_text
from textual.pilot import Pilot

from ahi.tui.actions import REGISTRY, Action
from ahi.tui.commands import RegistryCommands, complete
from ahi.tui.dialogs.help import HelpDialog
from ahi.tui.navigation import load_screens
from ahi.tui.screen_base import AhiScreen

load_screens()


def all_classes() -> list[type]:
    """Every loaded widget, screen and app class (where actions are implemented and bound)."""
    from textual.dom import DOMNode

    import ahi.tui.app  # noqa: F401 - the app and its screens
    import ahi.tui.call_log  # noqa: F401

    seen: list[type] = []
    pending: list[type] = [DOMNode]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                pending.append(sub)
    return seen


def implementations(action: Action) -> list[type]:
    """Classes that bind the action by its id and implement its method."""
    found = []
    for cls in all_classes():
        bound = any(getattr(b, "id", None) == action.id for b in getattr(cls, "BINDINGS", []))
        if bound and hasattr(cls, f"action_{action.method.partition('(')[0]}"):
            found.append(cls)
    return found


MUTATING = [action for action in REGISTRY if action.mutates]


def test_registry_has_mutating_actions_and_each_is_guarded() -> None:
    assert {a.id for a in MUTATING} >= {"datastores.create", "datastores.delete"}
    for action in MUTATING:
        owners = implementations(action)
        assert owners, f"{action.id} is bound nowhere"
        for owner in owners:
            method = getattr(owner, f"action_{action.method.partition('(')[0]}")
            assert getattr(method, "__ahi_mutating__", None) == action.id, f"{owner.__name__}.{action.method} is not guarded"


def test_every_action_is_bound_and_implemented() -> None:
    missing = [action.id for action in REGISTRY if action.id != "app.quit" and not implementations(action)]
    assert missing == []


def test_read_only_hides_and_refuses_every_mutating_action(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app("--read-only")
    refusals: list[str] = []
    notify = app.notify

    def recording(message: str, *args: Any, **kwargs: Any) -> None:
        """Every refusal, counted when made (the app's own list drops notifications as they time out)."""
        if str(message).startswith("Refused"):
            refusals.append(str(message))
        notify(message, *args, **kwargs)

    app.notify = recording  # type: ignore[method-assign]

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
        assert isinstance(app.screen, HelpDialog)
        help_text = "\n".join(widget_text(static) for static in app.screen.query("Static"))
        assert "READ-ONLY" in help_text
        for action in MUTATING:
            assert action.description not in help_text
        await pilot.press("escape")
        before = len(app.call_log.records())
        for action in [a for a in MUTATING if a.scope in screen.scopes()]:
            refused_before = len(refusals)
            await pilot.press(action.keys.split(",")[0])
            await settle(pilot)
            assert app.screen is screen, f"{action.id} opened something"
            assert len(refusals) == refused_before + 1, f"the key of {action.id} was not refused out loud"
            assert action.description in refusals[-1] and "read-only" in refusals[-1]
            if action.command:
                await pilot.press("colon", *action.command, "enter")
                await settle(pilot)
                assert app.screen is screen
            refused_before = len(refusals)
            getattr(screen, f"action_{action.method}")()
            await settle(pilot)
            assert len(refusals) > refused_before, f"{action.id} was not refused when invoked directly"
        assert [r for r in app.call_log.records()[before:] if r.operation != "ListDatastores"] == []
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

