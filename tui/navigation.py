"""The screen registry behind `:ds`, `:jobs`, ...: every top-level screen is declared here, once, by name.

A screen's module is imported when the screen is first opened, not at start-up: the image set
screens alone pull in pydicom, numpy and imagecodecs. Completion, help and the palette only need
the names declared below; importing a screen module registers its actions.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class ScreenSpec:
    """A top-level screen reachable from the command line, built by `module.cls(argument)`."""

    name: str
    title: str
    aliases: tuple[str, ...]
    module: str
    cls: str

    def factory(self, argument: str | None) -> Screen:
        """The screen for the command's argument (`:sets <datastore-id>` passes the id)."""
        return getattr(importlib.import_module(self.module), self.cls)(argument)


#: Every top-level screen, in palette order; a new screen module adds its line here.
SCREENS: dict[str, ScreenSpec] = {
    spec.name: spec
    for spec in (
        ScreenSpec("datastores", "Data stores", ("ds", "datastore", "stores"), "ahi.screens.datastores", "DatastoresScreen"),
        ScreenSpec("kms", "KMS keys", ("keys", "key"), "ahi.screens.kms_status", "KmsStatusScreen"),
        ScreenSpec("sets", "Image sets", ("set", "imagesets", "search"), "ahi.screens.image_set_search", "ImageSetSearchScreen"),
        ScreenSpec("jobs", "Import jobs", ("job", "imports"), "ahi.screens.jobs", "JobsScreen"),
        ScreenSpec("fleet", "Failed imports across regions", ("regions",), "ahi.screens.fleet", "FleetScreen"),
    )
}


def load_screens() -> dict[str, ScreenSpec]:
    """Import every screen module, so the action registry is complete (config checks, registry tests)."""
    for spec in SCREENS.values():
        importlib.import_module(spec.module)
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
