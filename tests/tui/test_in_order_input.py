"""Editing keys typed in a burst act in the order typed (docs/form-focus.md#editing-keys-in-a-burst)."""

from __future__ import annotations

import asyncio

from textual import events
from textual.app import App, ComposeResult

from ahi.tui.widgets.in_order_input import InOrderInput
from ahi.tui.widgets.literal_input import LiteralInput


class OneField(App[None]):
    def __init__(self, field: InOrderInput) -> None:
        super().__init__()
        self.field = field

    def compose(self) -> ComposeResult:
        yield self.field


BURST = ["ctrl+e", "ctrl+u", *"new", "backspace", "w", "home", "delete", "N"]


def typed_in_one_burst(field: InOrderInput) -> str:
    """Post every key of BURST to the app before any is handled (as a paste or a laggy link delivers them)."""

    async def main() -> str:
        app = OneField(field)
        async with app.run_test() as pilot:
            field.focus()
            await pilot.pause()
            field.value = "old value"
            for key in BURST:  # unlike pilot.press, nothing waits between the keys
                app.post_message(events.Key(key, key if len(key) == 1 else None))
            await pilot.pause()
            await pilot.pause()
            return field.value

    return asyncio.run(main())


def test_a_burst_clears_types_and_edits_in_the_order_typed() -> None:
    # A plain Textual Input ends empty: ctrl+u runs after "new" was typed (checked when this was written).
    for field in (InOrderInput(), LiteralInput()):
        assert typed_in_one_burst(field) == "New"
