"""Conflicts: a study's primary image sets with their non-primary siblings, and why each sibling conflicts.

Opened with `f` from an image set (its study) or from an import job (the studies of its non-primary
image sets). Under the table, the row's differing Patient, Study and Series elements side by side, the
primary's value and the sibling's. `P` promotes the sibling (CopyImageSet with promoteToPrimary), `u`
gives it the primary's value (UpdateImageSetMetadata), `D` deletes it (docs/conflicts.md).
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.widget import Widget
from textual.widgets import DataTable, Static

from ahi.screens.image_set_base import note_access
from ahi.screens.image_set_detail import ImageSetDetailScreen
from ahi.screens.patch_editor import PatchEditorDialog
from ahi.services.conflicts import ConflictsLoader, ConflictsView, Member, Sibling, StudyConflicts
from ahi.services.imagesets import ImageSetState
from ahi.services.metadata_patch import MetadataUpdate
from ahi.services.metadata_tree import person_name
from ahi.services.tiers import ARCHIVE, FREQUENT, NAMES, access_notice, short_tier_name
from ahi.tui.actions import REGISTRY, Action, Confirm, mutating
from ahi.tui.format import role_text
from ahi.tui.literal import DETAIL_LIMIT, literal, safe
from ahi.tui.screen_base import AhiScreen
from ahi.tui.widgets.lock_banner import LockBanner
from ahi.tui.widgets.resource_table import Column, ResourceTable, Row

SCOPE = "study_conflicts"
REGISTRY.register(
    Action("conflicts.open", "open", "enter", "Open image set", SCOPE, footer=False),
    Action("conflicts.promote", "promote", "P", "Promote to primary", SCOPE, mutates=True, confirm=Confirm.YES_NO, command="promote"),
    Action("conflicts.fix", "fix", "u", "Fix attribute", SCOPE, mutates=True, confirm=Confirm.YES_NO, command="fix"),
    Action("conflicts.delete", "delete", "D", "Delete duplicate", SCOPE, mutates=True, confirm=Confirm.TYPE_ID, command="delete"),
)

COLUMNS = (
    Column("role", "role", 11),
    Column("id", "image set ID", 32),
    Column("why", "why not primary", 34),
    Column("version", "ver", 3),
    Column("tier", "tier", 10),
    Column("series", "ser", 3),
    Column("instances", "inst", 4),
    Column("patient", "patient name", 20),
)
#: Longest value drawn in the differences table (a value can be any length).
VALUE_LIMIT = 200


def role_cell(member: Member) -> Text:
    """The role as a word (colour only repeats it)."""
    return role_text(member.is_primary)


def value_text(present: bool, value: Any) -> Text:
    if not present:
        return Text("(absent)", style="dim italic")
    return literal(value if isinstance(value, str) else str(value), limit=VALUE_LIMIT)


class StudyConflictsScreen(AhiScreen):
    """One or more studies: primaries first, each followed by its non-primary siblings."""

    CSS_PATH = "study_conflicts.tcss"
    SCOPE = SCOPE
    FETCH_OPERATION = "SearchImageSets"
    AUTO_REFRESH = False
    UNUSED_ACTIONS = frozenset({"raw_json", "copy_arn"})
    crumb = "Conflicts"

    def __init__(self, datastore_id: str, image_set_ids: Iterable[str] = (), study_uids: Iterable[str] = ()) -> None:
        super().__init__()
        self.datastore_id = datastore_id
        self.image_set_ids = tuple(image_set_ids)
        self.study_uids = tuple(study_uids)
        self.view: ConflictsView | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield LockBanner(id="lock")
        yield Static("", id="studies")
        yield ResourceTable(COLUMNS, id="conflict-sets", markable=False)
        yield Static("", id="differences")

    # --- loading --------------------------------------------------------------------------------

    def fetch(self) -> ConflictsView:
        loader = ConflictsLoader(self.ahi.services.imagesets)
        return loader.view(self.datastore_id, self.image_set_ids, self.study_uids)

    def show(self, view: ConflictsView) -> None:
        self.view = view
        # Once resolved, the studies are what the view follows (a deleted seed must not lose its study).
        self.study_uids = tuple(dict.fromkeys([*self.study_uids, *(s.study_uid for s in view.studies)]))
        self.image_set_ids = ()
        self.query_one("#studies", Static).update(self._studies_text(view))
        self.query_one(ResourceTable).set_rows([row for study in view.studies for row in self._rows(study)])
        self._show_differences()
        self._say_moved(view)

    def _say_moved(self, view: ConflictsView) -> None:
        """The view reads every member's metadata, an access: name those it moved out of Archive Instant Access."""
        moved = [m.id for study in view.studies for m in study.members if m.moved]
        for image_set_id in moved:
            note_access(self.app, image_set_id)
        if moved:
            names = ", ".join(moved[:3]) + (f" and {len(moved) - 3} more" if len(moved) > 3 else "")
            self.notify(f"Reading the study's metadata moved image set(s) {names} from {NAMES[ARCHIVE]} to {NAMES[FREQUENT]}", title="storage tier", severity="warning", markup=False)

    def _warn_access(self, member: Member) -> None:
        """Before a copy or update of `member` (both count as access): the notice, for Archive Instant Access only."""
        notice = access_notice(member.id, member.summary.storage_tier)
        if notice is not None:
            self.notify(notice, title="storage tier", severity="warning", markup=False)
        note_access(self.app, member.id)

    def _studies_text(self, view: ConflictsView) -> RenderableType:
        text = Text()
        for study in view.studies:
            if text:
                text.append("\n")
            text.append("Study ", style="bold")
            text.append_text(literal(study.study_uid, limit=80))
            text.append(f": {len(study.primaries)} primary, {len(study.siblings)} non-primary")
            if study.truncated:
                text.append("  (more image sets than the view reads)", style="yellow")
        for image_set_id, why in view.unresolved.items():
            text.append("\n")
            text.append_text(literal(f"image set {image_set_id}: study not found ({why})", limit=200))
        if not view.studies and not view.unresolved:
            text.append("No study to show", style="dim")
        return safe(text, limit=DETAIL_LIMIT)

    def _rows(self, study: StudyConflicts) -> list[Row]:
        placed: list[Row] = []
        for primary in study.primaries:
            placed.append(self._row(primary, None))
            placed += [self._row(sibling.member, sibling) for sibling in study.siblings_of(primary.id)]
        placed += [self._row(s.member, s) for s in study.siblings if s.primary is None]
        return placed

    def _row(self, member: Member, sibling: Sibling | None) -> Row:
        fmt, tags = self.ahi.formatter, member.summary.dicom
        if sibling is not None:
            why: str | Text = fmt.text(sibling.reason())
        else:
            count = sum(1 for s in (self.view.studies if self.view else ()) for x in s.siblings if x.primary is not None and x.primary.id == member.id)
            why = Text(f"{count} non-primary sibling(s)" if count else "", style="dim")
        cells = {
            "role": role_cell(member),
            "id": fmt.text(member.id),
            "version": fmt.text(member.summary.version),
            "tier": Text(short_tier_name(member.summary.storage_tier), style="yellow" if member.summary.storage_tier == ARCHIVE else ""),
            "series": fmt.text(tags.get("DICOMNumberOfStudyRelatedSeries")),
            "instances": fmt.text(tags.get("DICOMNumberOfStudyRelatedInstances")),
            "patient": fmt.text(person_name(str(tags.get("DICOMPatientName") or "")) or None),
            "why": why,
        }
        return Row(key=member.id, cells=cells, resource=sibling if sibling is not None else member)

    # --- the row under the cursor ---------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#conflict-sets")
    def _highlighted(self) -> None:
        self._show_differences()

    def _show_differences(self) -> None:
        self.query_one("#differences", Static).update(self._differences(self.current_resource()))

    def _differences(self, resource: Any) -> RenderableType:
        if isinstance(resource, Member):
            return Text("A primary image set: DICOMweb and primary-only searches find it.", style="dim")
        if not isinstance(resource, Sibling):
            return ""
        fmt = self.ahi.formatter
        if resource.primary is None or not resource.differences:
            return safe(Text(resource.reason()), limit=DETAIL_LIMIT)
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("level", style="dim", no_wrap=True)
        table.add_column("attribute", no_wrap=True)
        table.add_column(literal(f"primary {fmt.text(resource.primary.id)}"), overflow="fold")
        table.add_column(literal(f"this one {fmt.text(resource.member.id)}"), overflow="fold")
        for difference in resource.differences:
            table.add_row(difference.level, literal(difference.keyword), value_text(difference.primary_has, difference.primary_value), value_text(difference.sibling_has, difference.sibling_value))
        title = Text("Why it is not primary", style="bold")
        extra = Text(f"and {resource.shared_instances} instance(s) already in the primary", style="dim") if resource.shared_instances else Text("")
        return Group(title, table, extra)

    def _sibling(self) -> Sibling | None:
        resource = self.current_resource()
        if isinstance(resource, Sibling):
            return resource
        self.notify("Put the cursor on a non-primary image set", severity="warning")
        return None

    def _member(self) -> Member | None:
        resource = self.current_resource()
        return resource.member if isinstance(resource, Sibling) else resource if isinstance(resource, Member) else None

    def action_open(self) -> None:
        member = self._member()
        if member is not None:
            self.app.push_screen(ImageSetDetailScreen(self.datastore_id, member.id, member.id))

    @on(DataTable.RowSelected, "#conflict-sets")
    def _row_selected(self) -> None:
        self.action_open()

    def _writable_sibling(self) -> Sibling | None:
        """The non-primary image set under the cursor, when no write of this screen is still being followed."""
        sibling = self._sibling()
        if sibling is not None and self.query_one(LockBanner).active:
            self.notify("A write is still in progress; wait for it to end", severity="warning")
            return None
        return sibling

    # --- the ways out ---------------------------------------------------------------------------

    @mutating("conflicts.promote")
    def action_promote(self) -> None:
        sibling = self._writable_sibling()
        if sibling is None:
            return
        member, service = sibling.member, self.ahi.services.imagesets
        version = str(member.summary.version or "")
        replaced = f"; primary {sibling.primary.id} becomes non-primary" if sibling.primary is not None else ""

        def proceed() -> None:
            self._warn_access(member)
            self.call_in_background(
                "CopyImageSet",
                lambda: service.copy(self.datastore_id, member.id, version, promote_to_primary=True),
                lambda result: self._follow("promote", result.destination),
            )

        self.confirm_then("conflicts.promote", f"Copy to a new primary image set{replaced}; from image set", member.id, proceed)

    @mutating("conflicts.fix")
    def action_fix(self) -> None:
        sibling = self._writable_sibling()
        if sibling is None:
            return
        if sibling.member.document is None or not sibling.differences:
            self.notify("Nothing to fix: no element differs from the primary", severity="warning")
            return
        first = sibling.differences[0]
        document = sibling.member.document
        if first.primary_has:
            dialog = PatchEditorDialog(document, first.ref, value=str(first.primary_value))
        else:
            dialog = PatchEditorDialog(document, removal=first.fix(), removal_label=f"{first.level} {first.keyword} (the primary has none)")
        self.app.push_screen(dialog, lambda update: self._send_fix(sibling, update))

    def _send_fix(self, sibling: Sibling, update: MetadataUpdate | None) -> None:
        if update is None:
            return
        member, service = sibling.member, self.ahi.services.imagesets
        version = str(member.summary.version or "")
        # `force` lifts the metadata constraints on non-primary image sets only (docs/primary-image-sets.md#updates).
        force = not member.is_primary
        self._warn_access(member)
        self.call_in_background(
            "UpdateImageSetMetadata",
            lambda: service.update(self.datastore_id, member.id, version, update, force=force),
            lambda state: self._follow("fix", state),
        )

    @mutating("conflicts.delete")
    def action_delete(self) -> None:
        sibling = self._writable_sibling()
        if sibling is None:
            return
        member, service = sibling.member, self.ahi.services.imagesets

        def proceed() -> None:
            self.call_in_background("DeleteImageSet", lambda: service.delete(self.datastore_id, member.id), lambda state: self._follow("delete", state))

        self.confirm_then("conflicts.delete", "Non-primary image set", member.id, proceed)

    def _follow(self, operation: str, state: ImageSetState) -> None:
        self.query_one(LockBanner).follow(operation, state)

    @on(LockBanner.Settled)
    def _settled(self, message: LockBanner.Settled) -> None:
        message.stop()
        state, operation = message.state, message.following.operation
        if state is not None and state.failed:
            self.notify(f"{state.workflow_status}: {state.message or 'no message'}", title=f"{operation} failed", severity="error", timeout=20)
        else:
            self.notify(f"{operation} done", title="Conflicts")
        self.refresh_after_change()

    def status_parts(self) -> list[str]:
        parts = super().status_parts()
        if self.view is not None:
            siblings = sum(len(s.siblings) for s in self.view.studies)
            parts.insert(0, f"{len(self.view.studies)} study(ies), {siblings} non-primary")
        return parts
