"""The one action registry: every key, help line, palette entry and command comes from here.

An action has an id (what the keymap in the config file remaps), default keys, a description,
whether it changes anything in AWS, and how it is confirmed. Read-only mode hides and refuses
every action with `mutates=True`, wherever it would be reached from.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, TypeVar

from textual.binding import Binding
from textual.keys import format_key

F = TypeVar("F", bound=Callable[..., Any])


class Confirm(enum.Enum):
    """How an action is confirmed before it runs."""

    NONE = "none"
    YES_NO = "yes-no"
    TYPE_ID = "type the resource ID"


@dataclass(frozen=True)
class Action:
    """One thing the user can do."""

    id: str
    #: The Textual action name (the `action_<method>` method of the class that owns `scope`).
    method: str
    keys: str
    description: str
    #: "app" for everywhere, "screen" for every resource screen, or one screen's scope name.
    scope: str
    mutates: bool = False
    confirm: Confirm = Confirm.NONE
    #: Shown in the footer (everything is always in help and the palette).
    footer: bool = True
    #: The word after `:` that runs it; None when the action is not a command.
    command: str | None = None

    def binding(self) -> Binding:
        return Binding(self.keys, self.method, self.description, show=self.footer, id=self.id)


class ActionRegistry:
    """Actions by id, with lookups by scope and by method."""

    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}

    def register(self, *actions: Action) -> None:
        for action in actions:
            if action.id in self._actions and self._actions[action.id] != action:
                raise ValueError(f"two actions with id {action.id}")
            clash = [a for a in self._actions.values() if a.method == action.method and a.scope == action.scope and a.id != action.id]
            if clash:
                raise ValueError(f"{action.id} and {clash[0].id} share the method {action.method} in {action.scope}")
            self._actions[action.id] = action

    def __iter__(self) -> Iterable[Action]:
        return iter(list(self._actions.values()))

    def __getitem__(self, action_id: str) -> Action:
        return self._actions[action_id]

    def ids(self) -> set[str]:
        return set(self._actions)

    def in_scopes(self, scopes: Iterable[str]) -> list[Action]:
        wanted = list(scopes)
        return [a for scope in wanted for a in self._actions.values() if a.scope == scope]

    def by_method(self, method: str, scopes: Iterable[str]) -> Action | None:
        for action in self.in_scopes(scopes):
            if action.method == method:
                return action
        return None

    def bindings(self, scope: str) -> list[Binding]:
        return [action.binding() for action in self.in_scopes([scope])]

    def commands(self, scopes: Iterable[str], read_only: bool) -> dict[str, Action]:
        return {
            action.command: action
            for action in self.in_scopes(scopes)
            if action.command and not (read_only and action.mutates)
        }


REGISTRY = ActionRegistry()


class ScopedBindings:
    """Mixin for a Textual screen or widget: a subclass that names its `SCOPE` gets that scope's keys as `BINDINGS`.

    It must come before the Textual base class, so `BINDINGS` is set before Textual merges the bindings of
    the class hierarchy. A scope's actions are registered when its module is imported, before the class.
    """

    #: The action scope whose keys this class binds ("" binds nothing of its own).
    SCOPE: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        scope = cls.__dict__.get("SCOPE")
        if scope:
            cls.BINDINGS = REGISTRY.bindings(scope)  # type: ignore[attr-defined]
        super().__init_subclass__(**kwargs)


#: Scopes every resource screen shares; a screen's own actions are listed before them.
GENERIC_SCOPES = ("screen", "table", "app")


def scope_rank(scope: str, own: str) -> int:
    """Where a scope's keys go in the footer and help: the screen's own first, then its panels', then the shared ones."""
    if scope == own:
        return 0
    if scope not in GENERIC_SCOPES:
        return 1
    return 2 + GENERIC_SCOPES.index(scope)


def visible(actions: Iterable[Action], read_only: bool) -> list[Action]:
    """The actions a user may see: in read-only mode, none that mutates."""
    return [action for action in actions if not (read_only and action.mutates)]


def mutating(action_id: str) -> Callable[[F], F]:
    """Mark an `action_*` method as the mutating action `action_id`: refused in read-only mode.

    This is the last line of defence: keys, palette and command line already hide the action,
    but anything that still calls it (a stale binding, `run_action`) is refused here.
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            if self.app.refuse_if_read_only(REGISTRY[action_id]):
                return None
            return method(self, *args, **kwargs)

        guarded.__ahi_mutating__ = action_id  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def refused_by_key(key: str, scopes: Iterable[str], keymap: dict[str, str]) -> Action | None:
    """The mutating action `key` would run in `scopes`, when no action that changes nothing also has that key.

    Read-only mode hides a mutating action's binding, so its key would otherwise fall through silently;
    the screen hands the action found here to the same refusal as the command line.
    """
    wanted = list(scopes)
    bound = [a for a in REGISTRY.in_scopes(wanted) if key in {k.strip() for k in keymap.get(a.id, a.keys).split(",")}]
    if any(not action.mutates for action in bound):
        return None
    return bound[-1] if bound else None


#: Keys as people write them, where Textual's own display differs (`pgdn`, `⏎`, `ctrl+s`).
KEY_NAMES = {
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "home": "Home",
    "end": "End",
    "enter": "Enter",
    "escape": "Esc",
    "space": "Space",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "delete": "Del",
    "backspace": "Backspace",
}


def key_name(key: str) -> str:
    """One Textual key name as a person writes it: `right_square_bracket` is `]`, `pagedown` is `PgDn`, `ctrl+s` is `^s`."""
    key = key.strip()
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    if key.startswith("ctrl+"):
        return "^" + key_name(key[5:])
    return format_key(key)


def key_label(keys: str, keymap: dict[str, str] | None = None, action_id: str | None = None) -> str:
    """Human form of a key list (`question_mark,right_square_bracket` becomes `?, ]`), after the config's keymap."""
    if keymap and action_id in keymap:
        keys = keymap[action_id]
    return ", ".join(key_name(key) for key in keys.split(",") if key.strip())


REGISTRY.register(
    Action("app.command", "command_line", "colon", "Command line", "app", footer=True),
    Action("app.help", "help", "question_mark", "Help", "app", command="help"),
    Action("app.call_log", "call_log", "exclamation_mark", "Call log", "app", command="log"),
    Action("app.quit", "quit", "ctrl+q,ctrl+c", "Quit", "app", footer=False, command="q"),
    Action("screen.back", "back", "escape", "Back", "screen", footer=False),
    Action("screen.filter", "filter", "slash", "Filter", "screen"),
    Action("screen.refresh", "refresh", "r", "Refresh", "screen", command="refresh"),
    Action("screen.pause", "pause", "p", "Pause auto-refresh", "screen", footer=False, command="pause"),
    Action("screen.raw", "raw_json", "y", "Raw JSON", "screen", command="json"),
    Action("screen.copy_id", "copy_id", "c", "Copy ID", "screen", footer=False),
    Action("screen.copy_arn", "copy_arn", "C", "Copy ARN", "screen", footer=False),
    Action("screen.export", "export_table", "ctrl+e", "Export table to .csv or .json", "screen", footer=False, command="export"),
    Action("table.down", "cursor_down", "j,down", "Next row", "table", footer=False),
    Action("table.up", "cursor_up", "k,up", "Previous row", "table", footer=False),
    Action("table.first", "first_row", "g,home", "First row", "table", footer=False),
    Action("table.last", "last_row", "G,end", "Last row", "table", footer=False),
    Action("table.page_down", "page_down", "pagedown", "Page down", "table", footer=False),
    Action("table.page_up", "page_up", "pageup", "Page up", "table", footer=False),
    Action("table.right", "column_right", "right,l", "Scroll one column right", "table", footer=False),
    Action("table.left", "column_left", "left,h", "Scroll one column left", "table", footer=False),
    Action("table.mark", "mark", "space", "Mark row", "table", footer=False),
    Action("table.sort", "sort", "s", "Sort by next column", "table", footer=False),
    Action("table.reverse", "reverse_sort", "S", "Reverse sort", "table", footer=False),
)
