"""Two versions of an image set's metadata compared: what was added, changed and removed, by level.

`d` on the image set detail opens it (docs/version-diff.md). Both documents are read and compared off
the UI thread; the list shows at most DIFF_LINES changes, each value through `literal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Iterable

from rich.console import Group as RichGroup
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from ahi.services.metadata_diff import ABSENT, Change, Group, Kind, Level, counts, diff, grouped
from ahi.services.metadata_tree import readable
from ahi.tui.literal import literal
from ahi.tui.screen_base import AhiScreen

#: The most changes listed: two documents can differ in every instance, and the list is drawn on the UI
#: thread whole (measured: 300 changes, each in its own instance, draw in about 0.3 s; docs/console-limits.md).
DIFF_LINES = 300
#: The most characters of one value on a line (old and new share it).
VALUE_LIMIT = 120
MARKS = {Kind.ADDED: ("+", "green"), Kind.CHANGED: ("~", "yellow"), Kind.REMOVED: ("-", "red")}


@dataclass(frozen=True)
class VersionDiff:
    """The two versions compared (older first), every change from the first to the second, and the list to draw."""

    old_version: str
    new_version: str
    changes: list[Change]
    shown: RichGroup | None = None


def group_title(group: Group) -> Text:
    """`Series 1.2.3` or `Instance 1.2.3.4 (series 1.2.3)`: the UIDs are foreign text."""
    title = Text(group.level.value, style="bold")
    if group.level is Level.SERIES:
        title.append(" ").append_text(literal(group.series_uid, limit=VALUE_LIMIT))
    elif group.level is Level.INSTANCE:
        title.append(" ").append_text(literal(group.sop_uid, limit=VALUE_LIMIT))
        title.append(" (series ", style="dim").append_text(literal(group.series_uid, limit=VALUE_LIMIT, style="dim")).append(")", style="dim")
    title.append(f"  {len(group.changes)} change{'s' if len(group.changes) != 1 else ''}", style="dim")
    return title


def shown_value(change: Change, value: Any) -> Text:
    """A value as the metadata tree reads it; a whole series or instance as its size."""
    if change.whole and isinstance(value, Mapping):
        series = change.level is Level.SERIES
        inner = value.get("Instances" if series else "ImageFrames")
        size = len(inner) if isinstance(inner, (Mapping, list)) else 0
        whole, part = ("series", "instance") if series else ("instance", "frame")
        return Text(f"the {whole}, {size} {part}{'s' if size != 1 else ''}", style="italic")
    return literal(readable(change.name, value, limit=VALUE_LIMIT), limit=VALUE_LIMIT)


def change_line(change: Change) -> Text:
    """`  ~ PatientName  Doe, John → Roe, Jane` (added and removed show their one value)."""
    mark, style = MARKS[change.kind]
    line = Text(f"  {mark} ", style=style)
    line.append_text(literal(change.name, limit=VALUE_LIMIT, style="bold"))
    line.append("  ")
    if change.kind is Kind.CHANGED:
        line.append_text(shown_value(change, change.old)).append(" → ", style=style).append_text(shown_value(change, change.new))
    else:
        line.append_text(shown_value(change, change.new if change.old is ABSENT else change.old))
        line.append(f"  ({change.kind.value})", style=style)
    return line


def diff_text(result: VersionDiff, limit: int = DIFF_LINES) -> RichGroup:
    """The heading and the grouped list (at most `limit` changes, then how many more)."""
    found = counts(result.changes)
    heading = literal(f"Version {result.old_version} → version {result.new_version}: ", limit=VALUE_LIMIT, style="bold")
    if not result.changes:
        heading.append("no differences in the metadata", style="green")
        return RichGroup(heading)
    heading.append(f"{len(result.changes)} change{'s' if len(result.changes) != 1 else ''}")
    heading.append(" (" + ", ".join(f"{found[kind]} {kind.value}" for kind in Kind) + ")", style="dim")
    parts: list[Text] = [heading]
    shown = 0
    for group in grouped(result.changes[:limit]):
        parts.append(Text(""))
        parts.append(group_title(group))
        parts.extend(change_line(change) for change in group.changes)
        shown += len(group.changes)
    if len(result.changes) > shown:
        parts.append(Text(f"\n… {len(result.changes) - shown} more changes not listed (the list stops at {limit})", style="yellow"))
    return RichGroup(*parts)


class VersionDiffScreen(AhiScreen):
    """`d` from the image set detail; Esc goes back."""

    SCOPE = "version_diff"
    FETCH_OPERATION = "GetImageSetMetadata"
    AUTO_REFRESH = False
    UNUSED_ACTIONS = frozenset({"raw_json", "copy_id", "copy_arn"})
    DEFAULT_CSS = "VersionDiffScreen #diff-scroll { height: 1fr; padding: 0 1; }"

    def __init__(self, datastore_id: str, image_set_id: str, old_version: str, new_version: str) -> None:
        super().__init__()
        self.datastore_id = datastore_id
        self.image_set_id = image_set_id
        self.old_version, self.new_version = sorted((old_version, new_version), key=lambda v: int(v) if v.isdigit() else 0)
        self.crumb = f"Diff {self.old_version} → {self.new_version}"
        self.result: VersionDiff | None = None

    def compose_body(self) -> Iterable[Widget]:
        with VerticalScroll(id="diff-scroll"):
            yield Static(Text("Reading both versions…", style="dim"), id="diff")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#diff-scroll").focus()

    def fetch(self) -> VersionDiff:
        service = self.ahi.services.imagesets
        old = service.metadata(self.datastore_id, self.image_set_id, self.old_version).document
        new = service.metadata(self.datastore_id, self.image_set_id, self.new_version).document
        result = VersionDiff(self.old_version, self.new_version, diff(old, new))
        return replace(result, shown=diff_text(result))

    def show(self, result: VersionDiff) -> None:
        self.result = result
        self.query_one("#diff", Static).update(result.shown or diff_text(result))

    def status_parts(self) -> list[str]:
        parts = super().status_parts()
        if self.result is not None:
            parts.insert(0, f"{len(self.result.changes)} changes")
        return parts
