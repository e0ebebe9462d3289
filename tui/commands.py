"""The `:` command line: parsing, completion and the palette provider, all from the registries."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Iterable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ahi.tui.actions import REGISTRY, Action, key_label, visible
from ahi.tui.navigation import SCREENS, screen_words

if TYPE_CHECKING:
    from ahi.tui.app import AhiApp

QUIT_WORDS = ("q", "quit", "q!")
SETTING_WORDS = ("profile", "region")


@dataclass(frozen=True)
class Command:
    """A parsed command line: the verb and what follows it."""

    verb: str
    argument: str | None

    @classmethod
    def parse(cls, text: str) -> Command:
        verb, _, rest = text.strip().lstrip(":").partition(" ")
        return cls(verb.lower(), rest.strip() or None)


def command_words(app: AhiApp) -> list[str]:
    """Every verb valid now: screens, settings, quit and the current screen's action commands."""
    actions = REGISTRY.commands(app.current_scopes(), app.read_only)
    return list(dict.fromkeys([*screen_words(), *SETTING_WORDS, *QUIT_WORDS[:2], *actions]))


def complete(app: AhiApp, text: str) -> list[str]:
    """Candidates for what has been typed so far (verbs, or profile/region names after them)."""
    command = Command.parse(text)
    if " " in text.strip() and command.verb in SETTING_WORDS:
        names = app.profile_names() if command.verb == "profile" else app.region_names()
        typed = command.argument or ""
        return [f"{command.verb} {name}" for name in names if name.startswith(typed)]
    return [word for word in command_words(app) if word.startswith(command.verb)]


class RegistryCommands(Provider):
    """ctrl+p: the same actions as the keys (minus mutating ones in read-only mode), plus screens."""

    def _entries(self) -> list[tuple[str, str, object]]:
        app: AhiApp = self.app  # type: ignore[assignment]
        screen = app.main_screen
        entries: list[tuple[str, str, object]] = []
        for action in self._actions(app):
            target = screen if action.scope != "app" else app
            help_text = f"key {key_label(action.keys, dict(app.keymap), action.id)}"
            entries.append((action.description, help_text, partial(app.run_registry_action, action, target)))
        for spec in SCREENS.values():
            entries.append((f"go: {spec.title}", f":{spec.name}", partial(app.run_command, spec.name)))
        return entries

    def _actions(self, app: AhiApp) -> Iterable[Action]:
        return [a for a in visible(REGISTRY.in_scopes(app.current_scopes()), app.read_only) if a.id != "app.command"]

    async def discover(self) -> Hits:
        for title, help_text, callback in self._entries():
            yield DiscoveryHit(title, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)  # type: ignore[arg-type]
