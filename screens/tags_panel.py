"""The tags of one data store or image set: add, edit and remove, with the service's rules checked first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from rich.text import Text
from textual import on
from textual.widget import Widget
from textual.widgets import DataTable, Static

from ahi.screens.tag_form import TagFormDialog
from ahi.services.tags import MAX_TAGS_PER_RESOURCE, TagChange, TagTarget
from ahi.tui.actions import REGISTRY, Action, Confirm, mutating
from ahi.tui.literal import DETAIL_LIMIT, safe
from ahi.tui.screen_base import AhiScreen
from ahi.tui.widgets.resource_table import Column, ResourceTable, Row

REGISTRY.register(
    Action("tags_panel.add", "add_tag", "a", "Add tag", "tags_panel", mutates=True, command="add"),
    Action("tags_panel.edit", "edit_tag", "e", "Edit tag", "tags_panel", mutates=True, command="edit"),
    Action(
        "tags_panel.remove", "remove_tags", "x", "Remove tag(s)", "tags_panel",
        mutates=True, confirm=Confirm.YES_NO, command="remove",
    ),
)

COLUMNS = (Column("key", "key", 40), Column("value", "value"))


@dataclass(frozen=True)
class TagSubject:
    """What `y`, `c` and `C` act on here: the resource, with its last ListTagsForResource answer."""

    id: str
    arn: str
    raw: Mapping[str, Any] = field(default_factory=dict)


def resource_id_of(arn: str) -> str:
    """The data store or image set ID at the end of a HealthImaging ARN."""
    return arn.rsplit("/", 1)[-1]


class TagsPanelScreen(AhiScreen):
    """Reached with `t` (or `:tags`) on any screen of taggable rows; Esc goes back."""

    CSS_PATH = "tags_panel.tcss"
    SCOPE = "tags_panel"
    FETCH_OPERATION = "ListTagsForResource"

    def __init__(self, target: TagTarget) -> None:
        super().__init__()
        self.target = target
        self.crumb = f"Tags: {target.label}"
        self.tags: dict[str, str] = {}
        self.raw: dict[str, Any] = {}

    def compose_body(self) -> Iterable[Widget]:
        yield Static(self._subject(), id="subject")
        yield ResourceTable(COLUMNS, id="tags")

    def fetch(self) -> dict[str, Any]:
        return self.ahi.services.tags.list_response(self.target.arn)

    def show(self, result: dict[str, Any]) -> None:
        self.raw = result
        self.tags = dict(result.get("tags", {}))
        fmt = self.ahi.formatter
        rows = [Row(key=key, cells={"key": fmt.text(key), "value": value}, resource=key) for key, value in sorted(self.tags.items())]
        self.query_one(ResourceTable).set_rows(rows)
        self.query_one("#subject", Static).update(self._subject())

    def _subject(self) -> Text:
        fmt = self.ahi.formatter
        text = Text.assemble((f"{self.target.kind} ", "dim"), (fmt.text(self.target.label), "bold"))
        if self.last_refreshed is not None:
            count = len(self.tags)
            text.append(f"  ·  {count} of {MAX_TAGS_PER_RESOURCE} tags", style="bold red" if count >= MAX_TAGS_PER_RESOURCE else "")
        text.append(f"\n{fmt.text(self.target.arn)}", style="dim")
        return safe(text, limit=DETAIL_LIMIT)

    def current_resource(self) -> TagSubject:
        return TagSubject(resource_id_of(self.target.arn), self.target.arn, self.raw)

    def selected_keys(self) -> list[str]:
        """Marked tags, or the one under the cursor."""
        table = self.query_one(ResourceTable)
        if table.marked:
            return sorted(table.marked)
        row = table.current_row
        return [row.key] if row is not None else []

    # --- actions ----------------------------------------------------------------------------------

    @mutating("tags_panel.add")
    def action_add_tag(self) -> None:
        form = TagFormDialog(f"Add tag to {self.target.label}", existing=self.tags)
        self.app.push_screen(form, self._send)

    @mutating("tags_panel.edit")
    def action_edit_tag(self) -> None:
        row = self.query_one(ResourceTable).current_row
        if row is None:
            self.notify("No tag selected", severity="warning")
            return
        form = TagFormDialog(f"Edit tag on {self.target.label}", existing=self.tags, key=row.key, value=self.tags.get(row.key, ""))
        self.app.push_screen(form, lambda change: self._send(change, replacing=row.key))

    @on(DataTable.RowSelected, "#tags")
    def _row_selected(self) -> None:
        if not self.ahi.read_only:
            self.action_edit_tag()

    def _send(self, change: TagChange | None, replacing: str | None = None) -> None:
        """TagResource, then (when the key was renamed) UntagResource of the old key: never lose a tag."""
        if change is None or change.value is None:
            return
        tags, arn, value = self.ahi.services.tags, self.target.arn, change.value
        old_key = replacing if replacing is not None and replacing != change.key else None
        others = {k: v for k, v in self.tags.items() if k != replacing}

        def call() -> TagChange:
            tags.tag(arn, {change.key: value}, existing=others)
            if old_key is not None:
                tags.untag(arn, [old_key])
            return change

        self.call_in_background("TagResource", call, self._saved)

    def _saved(self, change: TagChange) -> None:
        self.notify(self.ahi.formatter.text(str(change)), title=f"Tag saved on {self.target.label}")
        self.refresh_now()

    @mutating("tags_panel.remove")
    def action_remove_tags(self) -> None:
        keys = self.selected_keys()
        if not keys:
            self.notify("No tag selected", severity="warning")
            return
        tags, arn = self.ahi.services.tags, self.target.arn

        def proceed() -> None:
            self.call_in_background("UntagResource", lambda: tags.untag(arn, keys), lambda _: self._removed(keys))

        label = f"{len(keys)} tag{'s' if len(keys) > 1 else ''} of {self.target.kind} {self.target.label}:"
        self.confirm_then("tags_panel.remove", label, ", ".join(keys), proceed)

    def _removed(self, keys: list[str]) -> None:
        table = self.query_one(ResourceTable)
        table.set_marks(set(table.marked) - set(keys))
        self.notify(self.ahi.formatter.text(", ".join(keys)), title=f"Removed from {self.target.label}")
        self.refresh_now()
