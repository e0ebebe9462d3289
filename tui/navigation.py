"""The screen registry behind `:ds`, `:jobs`, ...: every top-level screen is known here by name.

A screen's module is imported when the screen is first opened, not at start-up: the image set
screens alone pull in pydicom, numpy and imagecodecs. Completion, help and the palette only need
the names declared below. Importing a screen module registers its actions (and its own spec,
which replaces the lazy one; a test keeps the two in agreement).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class ScreenSpec:
    """A top-level screen reachable from the command line."""

    name: str
    title: str
    aliases: tuple[str, ...]
    #: Builds the screen from the command's argument (`:sets <datastore-id>` passes the id).
    factory: Callable[[str | None], "Screen"]


@dataclass(frozen=True)
class LazyScreen:
    """A screen declared by name, built by `module.cls(argument)` once the module is imported."""

    name: str
    title: str
    aliases: tuple[str, ...]
    module: str
    cls: str

    def build(self, argument: str | None) -> Screen:
        return getattr(importlib.import_module(self.module), self.cls)(argument)

    def spec(self) -> ScreenSpec:
        return ScreenSpec(self.name, self.title, self.aliases, self.build)


#: Every top-level screen, in palette order; a new screen module adds its line here.
DECLARED: tuple[LazyScreen, ...] = (
    LazyScreen("datastores", "Data stores", ("ds", "datastore", "stores"), "ahi.screens.datastores", "DatastoresScreen"),
    LazyScreen("kms", "KMS keys", ("keys", "key"), "ahi.screens.kms_status", "KmsStatusScreen"),
    LazyScreen("sets", "Image sets", ("set", "imagesets", "search"), "ahi.screens.image_set_search", "ImageSetSearchScreen"),
    LazyScreen("jobs", "Import jobs", ("job", "imports"), "ahi.screens.jobs", "JobsScreen"),
)
SCREEN_MODULES: tuple[str, ...] = tuple(screen.module for screen in DECLARED)

SCREENS: dict[str, ScreenSpec] = {screen.name: screen.spec() for screen in DECLARED}


def register_screen(spec: ScreenSpec) -> None:
    SCREENS[spec.name] = spec


def load_screens() -> dict[str, ScreenSpec]:
    """Import every screen module, so the action registry is complete (config checks, registry tests)."""
    for module in SCREEN_MODULES:
        importlib.import_module(module)
    return SCREENS


def resolve_alias(word: str) -> ScreenSpec | None:
    """The screen a command word names, if any."""
    word = word.lower()
    for spec in SCREENS.values():
        if word == spec.name or word in spec.aliases:
            return spec
    return None


def screen_words() -> list[str]:
    """Every word that names a screen (for completion)."""
    words = [alias for spec in SCREENS.values() for alias in (spec.name, *spec.aliases)]
    return list(dict.fromkeys(words))
