"""Tagging for any screen whose rows are taggable resources (data stores, image sets).

A screen opts in by deriving from `TaggableScreen`: `t` opens the tags of the selected resource,
`T`/`U` add or remove one tag on every marked row (or the selected one when none is marked). A row
is taggable when its resource has an `arn` of a data store or image set; override `tag_target_of`
when the rows carry something else.
"""

from __future__ import annotations

from typing import Any


from ahi.screens.bulk_tag import BulkTagDialog
from ahi.screens.tag_form import TagFormDialog
from ahi.screens.tags_panel import TagsPanelScreen
from ahi.services.tags import Outcome, TagChange, TagOutcome, TagTarget, arn_problems
from ahi.tui.actions import REGISTRY, Action, Confirm, mutating
from ahi.tui.screen_base import AhiScreen

REGISTRY.register(
    Action("tagging.panel", "tags", "t", "Tags of selected", "tagging", command="tags"),
    Action(
        "tagging.add", "tag_marked", "T", "Add tag to marked", "tagging",
        mutates=True, confirm=Confirm.YES_NO, footer=False, command="tag",
    ),
    Action(
        "tagging.remove", "untag_marked", "U", "Remove tag from marked", "tagging",
        mutates=True, confirm=Confirm.YES_NO, footer=False, command="untag",
    ),
)


def tag_target(resource: Any) -> TagTarget | None:
    """The resource as a TagTarget when it has a data store or image set ARN; else None."""
    arn = getattr(resource, "arn", None)
    if not isinstance(arn, str) or arn_problems(arn):
        return None
    label = getattr(resource, "name", None) or getattr(resource, "id", None) or arn
    return TagTarget(arn, str(label))


class TaggableScreen(AhiScreen):
    """Base of screens whose table rows are taggable resources."""

    SCOPE = "tagging"

    def scopes(self) -> list[str]:
        scopes = super().scopes()
        return scopes if "tagging" in scopes else [*scopes, "tagging"]

    def tag_target_of(self, resource: Any) -> TagTarget | None:
        return tag_target(resource)

    def targets_by_row(self) -> dict[str, TagTarget]:
        """Row key -> target for the marked rows, or the row under the cursor when none is marked."""
        table = self.table
        if table is None:
            target = self.tag_target_of(self.current_resource())
            return {target.arn: target} if target is not None else {}
        rows = table.marked_rows if table.marked else [row for row in [table.current_row] if row is not None]
        found = {row.key: self.tag_target_of(row.resource) for row in rows}
        return {key: target for key, target in found.items() if target is not None}

    def action_tags(self) -> None:
        target = self.tag_target_of(self.current_resource())
        if target is None:
            self.notify("Select a data store or image set first", severity="warning")
            return
        self.app.push_screen(TagsPanelScreen(target))

    @mutating("tagging.add")
    def action_tag_marked(self) -> None:
        self._bulk("tagging.add")

    @mutating("tagging.remove")
    def action_untag_marked(self) -> None:
        self._bulk("tagging.remove")

    def _bulk(self, action_id: str) -> None:
        """Ask for the tag, confirm with the count, then run the change with progress and a summary."""
        targets = self.targets_by_row()
        if not targets:
            self.notify("Mark rows with space (or select one) first", severity="warning")
            return
        removing = action_id == "tagging.remove"
        count = f"{len(targets)} resource{'s' if len(targets) > 1 else ''}"
        title = f"Remove a tag from {count}" if removing else f"Add a tag to {count}"

        def asked(change: TagChange | None) -> None:
            if change is None:
                return
            self.confirm_then(action_id, f"{count}:", str(change), lambda: self._run_bulk(change, targets))

        self.app.push_screen(TagFormDialog(title, ask_value=not removing, submit_label="Next"), asked)

    def _run_bulk(self, change: TagChange, targets: dict[str, TagTarget]) -> None:
        row_of = {target.arn: key for key, target in targets.items()}

        def finished(outcomes: list[TagOutcome] | None) -> None:
            if outcomes is None:
                return
            failed = [row_of[o.target.arn] for o in outcomes if o.outcome in (Outcome.FAILED, Outcome.SKIPPED)]
            if self.table is not None:
                self.table.set_marks(failed)
            self.refresh_now()

        self.app.push_screen(BulkTagDialog(change, list(targets.values())), finished)
