"""The screen registry behind `:ds`, `:jobs`, ...: later screens register here and become reachable."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from textual.screen import Screen

#: Modules that register screens when imported; a new screen module appends itself here.
SCREEN_MODULES: tuple[str, ...] = ("screens.datastores", "screens.kms_status", "screens.image_set_search", "screens.jobs")


@dataclass(frozen=True)
class ScreenSpec:
    """A top-level screen reachable from the command line."""

    name: str
    title: str
    aliases: tuple[str, ...]
    #: Builds the screen from the command's argument (`:sets <datastore-id>` passes the id).
    factory: Callable[[str | None], "Screen"]


#: Screens later issues bring; until registered, their commands answer "coming".
PLANNED: dict[str, tuple[str, tuple[str, ...]]] = {
    "jobs": ("Import jobs", ("jobs", "job", "imports")),
    "sets": ("Image sets", ("sets", "set", "imagesets")),
    "kms": ("KMS keys", ("kms", "keys")),
}

SCREENS: dict[str, ScreenSpec] = {}


def register_screen(spec: ScreenSpec) -> None:
    SCREENS[spec.name] = spec


def load_screens() -> dict[str, ScreenSpec]:
    for module in SCREEN_MODULES:
        importlib.import_module(module)
    return SCREENS


def resolve_alias(word: str) -> tuple[str, ScreenSpec | None] | None:
    """(name, spec) for a screen word; spec is None for a planned screen not built yet."""
    word = word.lower()
    for spec in SCREENS.values():
        if word == spec.name or word in spec.aliases:
            return spec.name, spec
    for name, (_title, aliases) in PLANNED.items():
        if word == name or word in aliases:
            return name, SCREENS.get(name)
    return None


def screen_words() -> list[str]:
    """Every word that names a screen (for completion)."""
    words = [alias for spec in SCREENS.values() for alias in (spec.name, *spec.aliases)]
    words += [name for name in PLANNED if name not in SCREENS]
    return list(dict.fromkeys(words))
