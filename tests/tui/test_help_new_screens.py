"""`?` on the conflicts view, the version diff, the fleet table and the image set detail (DICOMweb export
and URL): the help stays inside an 80x24 terminal with nothing cut sideways, and lists only keys that
work on that screen; the notes name the `:` commands that reach the new screens."""

from __future__ import annotations

from typing import Any

from console_harness import AppFactory, drive, settle, until
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.screen import Screen

from ahi.screens.fleet import FleetScreen
from ahi.screens.image_set_detail import ImageSetDetailScreen
from ahi.screens.study_conflicts import StudyConflictsScreen
from ahi.screens.version_diff import VersionDiffScreen
from ahi.tui.dialogs.help import COMMAND_HELP, HelpDialog

STORE, IMAGE_SET = "0" * 32, "1" * 32
#: Keys that do nothing on a screen without auto-refresh, or whose rows carry no such value.
NOT_THERE = {
    "StudyConflictsScreen": {"screen.pause", "screen.raw", "screen.copy_arn"},
    "VersionDiffScreen": {"screen.pause", "screen.raw", "screen.copy_id", "screen.copy_arn", "screen.filter", "screen.export"},
    "FleetScreen": {"screen.pause", "screen.raw", "screen.copy_id", "screen.copy_arn"},
    "ImageSetDetailScreen": {"screen.pause"},
}
MUST = {
    "StudyConflictsScreen": {"conflicts.promote", "conflicts.fix", "conflicts.delete", "screen.copy_id", "screen.export"},
    "VersionDiffScreen": {"screen.back", "screen.refresh", "app.help"},
    "FleetScreen": {"fleet.open", "screen.export", "screen.refresh"},
    "ImageSetDetailScreen": {"image_set_detail.export_dicom", "image_set_detail.copy_url", "image_set_detail.diff", "image_set_detail.conflicts"},
}


def screens() -> list[Screen[Any]]:
    return [
        StudyConflictsScreen(STORE, [IMAGE_SET]),
        VersionDiffScreen(STORE, IMAGE_SET, "1", "2"),
        FleetScreen("us-east-1"),
        ImageSetDetailScreen(STORE, IMAGE_SET),
    ]


def test_help_on_the_new_screens_fits_80x24_and_lists_working_keys(make_app: AppFactory) -> None:
    app = make_app()
    listed: dict[str, set[str]] = {}
    fits: dict[str, tuple[bool, bool]] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        for screen in screens():
            await app.push_screen(screen)
            await settle(pilot)
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpDialog), "the help")
            dialog = app.screen
            assert isinstance(dialog, HelpDialog)
            scroll = dialog.query_one(VerticalScroll)
            name = type(screen).__name__
            listed[name] = {action.id for action in dialog.actions}
            inside = app.screen.region.contains_region(scroll.region) and scroll.region.width <= 80 and scroll.region.height <= 24
            fits[name] = (inside, scroll.max_scroll_x == 0)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen, "the screen again")
            await pilot.press("escape")
            await settle(pilot)

    drive(app, scenario, size=(80, 24))
    for name, ids in listed.items():
        assert fits[name] == (True, True), f"{name}: the help leaves the terminal or is cut sideways"
        assert not ids & NOT_THERE[name], f"{name} lists {sorted(ids & NOT_THERE[name])}"
        assert MUST[name] <= ids, f"{name} misses {sorted(MUST[name] - ids)}"


def test_the_command_help_names_the_new_commands() -> None:
    for command in (":fleet", ":export", ":conflicts", ":sets *"):
        assert command in COMMAND_HELP, command
