"""Helpers for console tests: build the app, drive it with Pilot, read its notifications."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from textual.pilot import Pilot

from ahi.tui.app import AhiApp

FROZEN = datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)
SHOWN_URL = "http://127.0.0.1:4599"
AppFactory = Callable[..., AhiApp]
#: How long a wait on the console may last before the test fails. A deadline, not a count of settles:
#: a settle takes microseconds on an idle machine and much longer on a loaded one, and only time is the
#: same for both. A passing test never waits it out.
PATIENCE_SECONDS = 30.0


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and their messages land (never a fixed sleep)."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def click(pilot: Pilot[Any], selector: str) -> None:
    """Click a widget once the layout is still, and fail if the click landed on anything else.

    A form that just grew error lines scrolls to its first problem; a click aimed while that
    animation runs can land where the button used to be. A Button also ignores clicks while it shows
    its last press (Textual's `-active` class, 0.2 s), so a second click that soon is waited out, as a
    person's hand would be, instead of being swallowed.
    """
    await pilot.wait_for_scheduled_animations()
    target = pilot.app.screen.query_one(selector)
    target.scroll_visible(animate=False)
    await poll(pilot, lambda: not target.has_class("-active"), f"{selector} done showing its last press")
    assert await pilot.click(selector), f"the click did not reach {selector}"


async def until(pilot: Pilot[Any], condition: Callable[[], Any], what: str = "the condition") -> None:
    """Let workers and timers run until `condition()` holds (writes are followed on timers), or fail naming `what`."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        await settle(pilot)
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}; notifications: {notifications(pilot.app)}")
        await pilot.pause(0.05)


async def poll(pilot: Pilot[Any], condition: Callable[[], Any], what: str = "the condition") -> None:
    """Like `until`, without waiting for workers: for a condition that holds while a worker is still busy."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}; notifications: {notifications(pilot.app)}")
        await pilot.pause(0.02)


def drive(app: AhiApp, scenario: Callable[[Pilot[Any]], Awaitable[None]], size: tuple[int, int] = (120, 40)) -> None:
    """Run the app headless, let the first load land, then play the scenario."""
    remember_notifications(app)

    async def main() -> None:
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())


#: The app attribute holding every notification it was given (remember_notifications).
SHOWN = "_test_notifications_shown"


def remember_notifications(app: AhiApp) -> None:
    """Keep every notification the app is given, in order, also once its toast has timed out.

    Textual drops a notification from its list when its timeout passes, so on a slow machine a test
    counting what was said would miss the early ones.
    """
    shown: list[Any] = []
    setattr(app, SHOWN, shown)
    collection = app._notifications  # noqa: SLF001 - Textual keeps no public list
    add = collection.add

    def add_and_remember(notification: Any) -> Any:
        shown.append(notification)
        return add(notification)

    collection.add = add_and_remember  # type: ignore[method-assign]


def notifications(app: AhiApp) -> list[str]:
    """What the app notified, oldest first: all of it under drive(), else what Textual still lists."""
    shown = getattr(app, SHOWN, None)
    listed = shown if shown is not None else app._notifications  # noqa: SLF001 - Textual keeps no public list
    return [str(n.message) for n in listed]


def widget_text(widget: Any, width: int = 160) -> str:
    """What a Static shows, as plain text (its content rendered by Rich)."""
    from rich.console import Console

    console = Console(width=width, record=True, file=open("/dev/null", "w"), color_system=None)
    console.print(widget.content)
    return console.export_text()
