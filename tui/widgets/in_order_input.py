"""An Input whose editing keys act in the order they were typed, however fast they arrive."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

#: Input's own actions that only move the cursor or delete: safe to run the moment their key arrives.
EDITING_ACTIONS = frozenset({
    "cursor_left", "cursor_right", "cursor_left_word", "cursor_right_word",
    "delete_left", "delete_right", "delete_left_word", "delete_right_word", "delete_left_all", "delete_right_all",
    "home", "end",
})  # fmt: skip


class InOrderInput(Input):
    """Runs Input's editing bindings (Backspace, ctrl+u, ctrl+e, Home, ...) in its own key queue.

    Textual runs a widget's bindings only once the key has bubbled back up to the app, while a printable
    key is inserted at once: in a burst (a paste, typing over a laggy SSH link) `ctrl+u` then `abc` could
    insert `abc` first and then clear it. Here both kinds act in arrival order (docs/form-focus.md).
    """

    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, []):
            if binding.action in EDITING_ACTIONS:
                event.stop()
                event.prevent_default()
                await self.run_action(binding.action)
                return
        await super()._on_key(event)
