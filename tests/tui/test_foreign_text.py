"""Foreign text reaches the screen only as visible characters: what the console would write to the terminal
(the compositor's full update, rendered) holds no control sequence from the data, markup in values is drawn
as itself, and clicking a value written as `[@click=app.quit]` runs nothing (docs/foreign-text.md)."""

from __future__ import annotations

import re
from typing import Any

from console_harness import AppFactory, drive, notifications, settle
from rich.text import Text
from textual.pilot import Pilot

from ahi.screens.datastore_detail import DatastoreDetailScreen
from ahi.services.errors import AwsCallError
from ahi.tui.literal import literal, safe, visible, visible_lines
from ahi.tui.messages import AwsCallFailed
from ahi.tui.widgets.error_panel import ErrorPanel
from ahi.tui.widgets.literal_input import LiteralInput
from ahi.tui.widgets.resource_table import CELL_LIMIT, Row

MARK = "PWN"
HOSTILE = {
    "clear": f"\x1b[2J{MARK}CSI",
    "title": f"\x1b]0;{MARK}TITLE\x07",
    "clip": f"\x1b]52;c;UFdO{MARK}\x07",
    "c1": f"\x9b2J\x9d0;{MARK}C1\x9c",
    "bidi": f"\u202e{MARK}BIDI",
    "click": f"[@click=app.quit]{MARK}CLICK[/]",
}
#: Control sequences as a terminal reads them (CSI, OSC, DCS-like strings, other escapes, 8-bit C1).
CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*|\x1b[ -/]*[0-~]|[\x80-\x9f]")
UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def test_literal_shows_every_unsafe_character_and_no_markup() -> None:
    value = "".join(HOSTILE.values()) + "\ud800\x00\x7f\u2028"
    text = literal(value)
    assert not UNSAFE.search(text.plain)
    assert "␛]0;PWNTITLE␇" in text.plain and "\\x9b2J" in text.plain and "\\u202ePWNBIDI" in text.plain
    assert HOSTILE["click"] in text.plain and "\\ud800␀␡\\u2028" in text.plain
    assert text.spans and all(span.style == "reverse" for span in text.spans)
    assert visible_lines("a\x1b\nb\x9b") == "a␛\nb\\x9b"
    assert visible("plain ascii") == "plain ascii"


def test_safe_keeps_styles_and_cuts() -> None:
    composed = Text.assemble(("bold part ", "bold"), HOSTILE["title"], ("red", "red"))
    shown = safe(composed, limit=24)
    assert not UNSAFE.search(shown.plain) and shown.plain.endswith("…") and len(shown) == 24
    assert any(span.style == "bold" for span in shown.spans) and any(span.style == "red" for span in safe(composed).spans)
    cell = Row("k", {"value": "x\ny" + "z" * 1000}).cells["value"]
    assert isinstance(cell, Text) and cell.plain.startswith("x␊y") and len(cell) == CELL_LIMIT


def drawn(app: Any) -> str:
    """Exactly what the console would write to the terminal for its whole screen now."""
    return app.screen._compositor.render_full_update().render_segments(app.console)  # noqa: SLF001


def screen_lines(app: Any) -> list[str]:
    update = app.screen._compositor.render_full_update()  # noqa: SLF001
    return ["".join(segment.text for strip in line for segment in strip) for line in update.strips]


def assert_nothing_leaks(app: Any) -> None:
    output = drawn(app)
    carrying = [match.group(0) for match in CONTROL.finditer(output) if MARK in match.group(0)]
    assert not carrying, f"data reached the terminal as control sequences: {carrying!r}"
    assert not re.search(r"[\x80-\x9f\u202a-\u202e]", output)


def test_hostile_tags_notifications_and_errors_are_drawn_literally(fixed_ids: None, mi: Any, make_app: AppFactory) -> None:
    mi.create_datastore(datastoreName="hostile-store", clientToken="hostile", tags=HOSTILE)
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DatastoreDetailScreen)
        lines = screen_lines(app)
        assert any(f"{MARK}TITLE" in line for line in lines) and any(HOSTILE["click"] in line for line in lines)
        assert_nothing_leaks(app)

        row = next(y for y, line in enumerate(lines) if HOSTILE["click"] in line)
        await pilot.click(offset=(lines[row].index(f"{MARK}CLICK") + 2, row))
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, DatastoreDetailScreen)

        app.notify(f"[@click=app.quit]{MARK}[/] {HOSTILE['title']}", title=HOSTILE["clip"])
        app.screen.post_message(AwsCallFailed(AwsCallError("GetDatastore", "ValidationException", "".join(HOSTILE.values())), "refresh"))
        await settle(pilot)
        assert app.screen.query_one(ErrorPanel).showing
        assert any(f"[@click=app.quit]{MARK}[/]" in note for note in notifications(app))
        assert_nothing_leaks(app)

        value = f"s3://in/{HOSTILE['title']}\u202e/"
        field = LiteralInput(value)
        await app.screen.mount(field)
        field.focus()
        await pilot.pause()
        assert field.value == value and field._value.plain == "s3://in/␛]0;PWNTITLE␇\ufffd/"  # noqa: SLF001 - what Input draws
        assert field._position_to_cell(len(value)) == len(value)  # noqa: SLF001
        assert_nothing_leaks(app)

    drive(app, scenario)
