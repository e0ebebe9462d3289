"""A form's fields, where Tab, shift+Tab and Enter act before any key typed after them is delivered.

Textual hands a key to the focused widget's queue and acts on Tab or Enter only once that widget lets
the key bubble back; keys typed in the same burst have by then been handed to the same widget, so they
land in the field being left (docs/form-focus.md). Priority bindings run when the key arrives, so the
focus moves first and every later key goes where the person sent it. Keys typed before Enter may still
wait in the queues of the fields they were sent to, so the submit runs once every field's queue has
reached it.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

from textual.widget import Widget

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input


class FieldGroup(Vertical):
    """Holds form fields; with `submit`, Enter in one of its text fields calls it once the field has every key typed before.

    `lands_on` gives the widget that takes the focus when Enter arrives (the results a search fills), so
    keys typed after Enter go there; `submit` may send the focus back to a field it finds wrong.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "next_field", "Next field", show=False, priority=True),
        Binding("shift+tab", "previous_field", "Previous field", show=False, priority=True),
        Binding("enter", "submit_fields", "Submit", show=False, priority=True),
    ]

    def __init__(
        self, *children: Any, submit: Callable[[], None] | None = None, lands_on: Callable[[], Widget] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*children, **kwargs)
        self.submit = submit
        self.lands_on = lands_on

    def _holds_focus(self) -> bool:
        focused = self.screen.focused
        return focused is not None and self in focused.ancestors

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only while a field of this group has the focus; otherwise the key goes its usual way."""
        if action in ("next_field", "previous_field"):
            return self._holds_focus()
        if action == "submit_fields":
            return self.submit is not None and self._holds_focus() and isinstance(self.screen.focused, Input)
        return True

    def action_next_field(self) -> None:
        self.screen.focus_next()

    def action_previous_field(self) -> None:
        self.screen.focus_previous()

    def action_submit_fields(self) -> None:
        field = self.screen.focused
        if self.submit is None or field is None:
            return
        if self.lands_on is not None:
            # set_focus at once: Widget.focus() would queue the change behind the keys already waiting.
            self.screen.set_focus(self.lands_on())
        # Every field, not only the focused one, may still hold keys of the burst in its own queue (typed
        # before a Tab that moved on at once): submit once each of them has handled what it was sent.
        submit, waiting = self.submit, set(self.query(Input)) | {field}

        def drained(done: Widget) -> None:
            waiting.discard(done)
            if not waiting:
                submit()

        for waiting_field in list(waiting):
            waiting_field.call_later(drained, waiting_field)
