"""One image set: properties of the latest or a chosen version, every version, tags, and the writes.

Enter on a version shows that version's properties; `m` opens its metadata, `v` its frames; `E` exports
the image set as .dcm files and `w` copies its study's DICOMweb URL (docs/dicomweb.md#console). Update,
revert, copy and delete ask first (read-only mode hides them), answer LOCKED at once, and the banner
follows the image set until the write ends with the service's status and message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Label, Static

from ahi.screens.copy_dialog import CopyDialog, CopyRequest
from ahi.screens.datastore_detail import attempt
from ahi.screens.dicomweb_export import ExportStatus, ask_export_folder, copy_url
from ahi.screens.frame_viewer import FrameViewerScreen
from ahi.screens.image_set_base import ImageSetScreen
from ahi.screens.metadata_view import MetadataViewScreen
from ahi.screens.patch_editor import PatchEditorDialog
from ahi.screens.version_diff import VersionDiffScreen
from ahi.services.dicomweb_export import plan_export, study_uid
from ahi.services.dicomweb_urls import DicomwebTarget
from ahi.services.errors import AwsCallError
from ahi.services.imagesets import ImageSetState, MetadataDocument
from ahi.services.metadata_patch import MetadataUpdate
from ahi.services.tiers import ARCHIVE, tier_name, touched
from ahi.tui.actions import REGISTRY, Action, Confirm, key_label, mutating
from ahi.tui.format import role_text
from ahi.tui.literal import literal, literal_row
from ahi.tui.widgets.lock_banner import Following, LockBanner
from ahi.tui.widgets.resource_table import Column, ResourceTable, Row

SCOPE = "image_set_detail"
REGISTRY.register(
    Action("image_set_detail.choose", "choose_version", "enter", "Show this version", SCOPE, footer=False),
    Action("image_set_detail.metadata", "metadata", "m", "Metadata", SCOPE, command="metadata"),
    Action("image_set_detail.preview", "preview", "v", "Preview frames", SCOPE, command="preview"),
    Action("image_set_detail.update", "update_attribute", "u", "Update attribute", SCOPE, mutates=True, confirm=Confirm.YES_NO, command="update"),
    Action("image_set_detail.revert", "revert", "R", "Revert to this version", SCOPE, mutates=True, confirm=Confirm.YES_NO, command="revert"),
    Action("image_set_detail.copy", "copy_image_set", "K", "Copy image set", SCOPE, mutates=True, confirm=Confirm.YES_NO, command="copy"),
    Action("image_set_detail.delete", "delete", "D", "Delete image set", SCOPE, mutates=True, confirm=Confirm.TYPE_ID, command="delete"),
    Action("image_set_detail.export_dicom", "export_dicom", "E", "Export .dcm", SCOPE, command="dcm"),
    Action("image_set_detail.copy_url", "copy_dicomweb_url", "w", "Copy DICOMweb URL", SCOPE, command="url"),
    Action("image_set_detail.conflicts", "conflicts", "f", "Study conflicts", SCOPE, command="conflicts"),
    Action("image_set_detail.diff", "diff_versions", "d", "Diff versions", SCOPE, footer=False, command="diff"),
)

VERSION_COLUMNS = (
    Column("shown", " ", 1),
    Column("version", "ver", 4),
    Column("state", "state", 7),
    Column("status", "workflow status", 20),
    Column("updated", "updated", 19),
    Column("message", "message"),
)
STATE_STYLES = {"ACTIVE": "green", "LOCKED": "bold yellow", "DELETED": "dim"}
PROPERTY_LABELS = {
    "imageSetId": "id",
    "versionId": "version",
    "imageSetState": "state",
    "imageSetWorkflowStatus": "workflow status",
    "imageSetArn": "ARN",
    "datastoreId": "data store",
    "createdAt": "created",
    "updatedAt": "updated",
    "deletedAt": "deleted",
    "lastAccessedAt": "last accessed",
    "isPrimary": "role",
    "storageTier": "storage tier",
    "message": "message",
    "overrides": "overrides",
}
TIMES = ("createdAt", "updatedAt", "deletedAt", "lastAccessedAt")


@dataclass(frozen=True)
class DetailData:
    """One load: the version shown, the latest, every version, the tags (each part may have failed)."""

    shown: ImageSetState
    latest: ImageSetState
    versions: list[ImageSetState] | AwsCallError
    tags: dict[str, str] | AwsCallError


def state_text(state: str | None) -> Text:
    return Text(state or "?", style=STATE_STYLES.get(state or "", ""))


def dicomweb_reach(is_primary: Any) -> Text:
    """Whether DICOMweb finds the image set by its UIDs alone (primary) or only with `imageSetId` (docs/dicomweb.md#console)."""
    if is_primary is True:
        return Text("reachable by its UIDs (primary)")
    return Text("not reachable without imageSetId (non-primary): its URLs carry ?imageSetId=", style="yellow")


def workflow_status_cell(status: str | None) -> Text:
    """An image set version's workflow status; failures in red."""
    return Text(status or "—", style="bold red" if (status or "").endswith("FAILED") else "")


class ImageSetDetailScreen(ImageSetScreen):
    """Reached with Enter from the search results; Esc goes back."""

    CSS_PATH = "image_set_detail.tcss"
    SCOPE = SCOPE
    FETCH_OPERATION = "GetImageSet"

    def __init__(self, datastore_id: str, image_set_id: str, label: str | None = None) -> None:
        super().__init__(datastore_id, image_set_id)
        self.crumb = label or image_set_id
        self.version_id: str | None = None
        self.shown: ImageSetState | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield LockBanner(id="lock")
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-left"):
                yield Static(id="properties")
                yield Static(id="tags")
            with Vertical(id="detail-right"):
                yield Label(self.versions_title(), id="versions-title")
                yield ResourceTable(VERSION_COLUMNS, id="versions")
        yield ExportStatus(id="dicomweb-export")

    def versions_title(self) -> str:
        """The versions heading names the revert key only where reverting is allowed."""
        diff = key_label(REGISTRY["image_set_detail.diff"].keys, self.ahi.keymap, "image_set_detail.diff")
        if self.ahi.read_only:
            return f"Versions (Enter shows one, {diff} diffs)"
        revert = key_label(REGISTRY["image_set_detail.revert"].keys, self.ahi.keymap, "image_set_detail.revert")
        return f"Versions (Enter shows one, {diff} diffs, {revert} reverts to it)"

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if self.last_refreshed is not None:
            self.refresh_soon()

    # --- loading --------------------------------------------------------------------------------

    def fetch(self) -> DetailData:
        hub = self.ahi.services
        latest = hub.imagesets.get(self.datastore_id, self.image_set_id)
        chosen = self.version_id
        shown = latest if not chosen or chosen == latest.version_id else hub.imagesets.get(self.datastore_id, self.image_set_id, chosen)
        versions = attempt("ListImageSetVersions", lambda: hub.imagesets.versions(self.datastore_id, self.image_set_id))
        tags: dict[str, str] | AwsCallError = {}
        if latest.arn and latest.state != "DELETED":
            tags = attempt("ListTagsForResource", lambda: hub.tags.list(latest.arn or ""))
        return DetailData(shown, latest, versions, tags)

    def show(self, result: DetailData) -> None:
        self.shown = result.shown
        self.follow_if_locked(result.latest)
        self.query_one("#properties", Static).update(self._properties(result.shown, result.latest))
        self.query_one("#tags", Static).update(self._tags(result.tags))
        versions = result.versions
        if isinstance(versions, AwsCallError):
            self.query_one("#versions-title", Label).update(literal(f"Versions: not available ({versions.code})"))
            return
        self.query_one(ResourceTable).set_rows([self._version_row(v) for v in versions])

    def tier_moved(self) -> None:
        """The properties name the tier: the shown version's too (the tier is the image set's, not a version's)."""
        if self.shown is not None and self.latest is not None:
            self.shown = self.latest if self.shown.version_id == self.latest.version_id else touched(self.shown)
            self.query_one("#properties", Static).update(self._properties(self.shown, self.latest))

    def _version_row(self, version: ImageSetState) -> Row:
        fmt = self.ahi.formatter
        shown = self.shown is not None and version.version_id == self.shown.version_id
        cells: dict[str, Any] = {
            "shown": "▶" if shown else "",
            "version": fmt.text(version.version_id),
            "state": state_text(version.state),
            "status": workflow_status_cell(version.workflow_status),
            "updated": fmt.time(version.updated_at),
            "message": fmt.text(version.message),
        }
        return Row(key=str(version.version_id), cells=cells, resource=version, sort_values={"version": int(version.version_id or 0)})

    def _properties(self, shown: ImageSetState, latest: ImageSetState) -> Table:
        fmt = self.ahi.formatter
        which = "latest version" if shown.version_id == latest.version_id else f"version {shown.version_id} (latest is {latest.version_id})"
        table = Table(title=literal(f"Properties — {which}", style="bold"), title_justify="left", title_style="bold", box=None, show_header=False)
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        for key, value in shown.raw.items():
            label = PROPERTY_LABELS.get(key, key)
            if key == "imageSetState":
                literal_row(table, label, state_text(str(value)))
            elif key in ("imageSetWorkflowStatus", "ImageSetWorkflowStatus"):
                literal_row(table, "workflow status", workflow_status_cell(str(value)))
            elif key in TIMES:
                literal_row(table, label, fmt.time(value))
            elif key == "storageTier":
                literal_row(table, label, literal(tier_name(str(value)), style="yellow" if value == ARCHIVE else ""))
            elif key == "isPrimary":
                literal_row(table, label, role_text(value if isinstance(value, bool) else None))
                literal_row(table, "DICOMweb", dicomweb_reach(value))
            elif key == "message":
                literal_row(table, label, Text(fmt.text(value), style="red" if shown.failed else ""))
            else:
                literal_row(table, label, fmt.text(value))
        return table

    def _tags(self, tags: dict[str, str] | AwsCallError) -> Table | Group:
        if isinstance(tags, AwsCallError):
            return Group(Text("Tags", style="bold"), Text(f"  not available: {tags.operation} answered {tags.code}", style="yellow"))
        table = Table(title=f"Tags ({len(tags)})", title_justify="left", title_style="bold", box=None, show_header=False)
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        for key in sorted(tags):
            literal_row(table, key, tags[key])
        if not tags:
            literal_row(table, "", Text("no tags", style="dim"))
        return table

    def current_resource(self) -> ImageSetState | None:
        return self.shown

    def status_parts(self) -> list[str]:
        parts = super().status_parts()
        if self.shown is not None and self.latest is not None and self.shown.version_id != self.latest.version_id:
            parts.insert(0, f"showing version {self.shown.version_id} of {self.latest.version_id}")
        return parts

    # --- versions -------------------------------------------------------------------------------

    def _version_under_cursor(self) -> ImageSetState | None:
        row = self.query_one(ResourceTable).current_row
        return row.resource if row is not None else None

    def action_choose_version(self) -> None:
        version = self._version_under_cursor()
        if version is not None:
            latest = self.latest.version_id if self.latest else None
            self.version_id = None if version.version_id == latest else version.version_id
            self.refresh_now()

    @on(DataTable.RowSelected, "#versions")
    def _row_selected(self) -> None:
        self.action_choose_version()

    def action_metadata(self) -> None:
        """The chosen version's metadata (None: the newest readable one, see services.imagesets.readable_version)."""
        self.warn_access()
        self.app.push_screen(MetadataViewScreen(self.datastore_id, self.image_set_id, self.version_id))

    def action_preview(self) -> None:
        self.warn_access()
        self.app.push_screen(FrameViewerScreen(self.datastore_id, self.image_set_id, self.version_id))

    def action_conflicts(self) -> None:
        """The study's primary and non-primary image sets (docs/conflicts.md)."""
        from ahi.screens.study_conflicts import StudyConflictsScreen  # it opens this screen in turn

        self.warn_access()  # the view reads its metadata to find the study
        self.app.push_screen(StudyConflictsScreen(self.datastore_id, [self.image_set_id]))

    def action_diff_versions(self) -> None:
        """Two marked versions, one marked and the cursor's, or the cursor's and the latest (docs/version-diff.md)."""
        table = self.query_one("#versions", ResourceTable)
        marked = [str(row.key) for row in table.marked_rows]
        cursor = self._version_under_cursor()
        latest = self.latest.version_id if self.latest is not None else None
        if len(marked) > 2:
            self.notify("Mark at most two versions to compare", severity="warning")
            return
        under_cursor = cursor.version_id if cursor is not None else None
        if len(marked) == 2:
            pair = marked
        elif marked:
            pair = [marked[0], under_cursor]
        else:
            pair = [under_cursor, latest]
        if pair[0] is None or pair[1] is None or pair[0] == pair[1]:
            self.notify("Mark two versions (Space), or put the cursor on an older version to compare it with the latest", severity="warning")
            return
        self.warn_access()
        self.app.push_screen(VersionDiffScreen(self.datastore_id, self.image_set_id, str(pair[0]), str(pair[1])))

    # --- DICOMweb -------------------------------------------------------------------------------

    def _with_document(self, then: Any) -> None:
        """The latest version's metadata document (DICOMweb serves the latest), loaded off the UI thread."""
        service = self.ahi.services.imagesets
        self.warn_access()
        self.call_in_background("GetImageSetMetadata", lambda: service.metadata(self.datastore_id, self.image_set_id), lambda m: then(m.document))

    def action_export_dicom(self) -> None:
        """Every instance of the image set as .dcm files, after the folder dialog."""
        status = self.query_one(ExportStatus)
        if status.running:
            self.notify("An export is running; it ends first", severity="warning")
            return

        def planned(document: Any) -> None:
            items = plan_export(self.datastore_id, self.image_set_id, document)
            if not items:
                self.notify("The metadata names no instances to export", severity="warning")
                return
            service = self.ahi.services.dicomweb
            ask_export_folder(self, f"the {len(items)} instances of image set {self.image_set_id}", lambda folder: status.start(service, items, folder))

        self._with_document(planned)

    def action_copy_dicomweb_url(self) -> None:
        """The study's DICOMweb URL (with imageSetId unless the image set is primary)."""
        pinned = None if self.latest is not None and self.latest.is_primary is True else self.image_set_id

        def copy(document: Any) -> None:
            study = study_uid(document)
            if study is None:
                self.notify("The metadata names no StudyInstanceUID", severity="warning")
                return
            copy_url(self, self.ahi.services.dicomweb, DicomwebTarget(self.datastore_id, study, image_set_id=pinned))

        self._with_document(copy)

    # --- writes ---------------------------------------------------------------------------------

    @mutating("image_set_detail.update")
    def action_update_attribute(self) -> None:
        self.with_latest_metadata(self._edit)

    def _edit(self, metadata: MetadataDocument) -> None:
        latest = self.writable_latest()
        if latest is None:
            return

        def edited(update: MetadataUpdate | None) -> None:
            if update is not None:
                self.send_update("update", update, latest)

        self.app.push_screen(PatchEditorDialog(metadata.document), edited)

    @mutating("image_set_detail.revert")
    def action_revert(self) -> None:
        latest = self.writable_latest()
        target = self._version_under_cursor()
        if latest is None:
            return
        if target is None or target.version_id == latest.version_id:
            self.notify("Put the cursor on an older version to revert to", severity="warning")
            return
        service = self.ahi.services.imagesets
        to_version, version = target.version_id or "", latest.version_id or ""

        def proceed() -> None:
            self.warn_access()
            self.call_in_background(
                "UpdateImageSetMetadata",
                lambda: service.revert(self.datastore_id, self.image_set_id, version, to_version),
                lambda state: self.follow(f"revert to version {to_version}", state),
            )

        self.confirm_then("image_set_detail.revert", f"Version {version} → a new version with the metadata of version {to_version}, image set", self.image_set_id, proceed)

    @mutating("image_set_detail.copy")
    def action_copy_image_set(self) -> None:
        latest = self.writable_latest()
        if latest is None:
            return
        version = latest.version_id or ""

        def asked(request: CopyRequest | None) -> None:
            if request is not None:
                self._copy(version, request)

        self.app.push_screen(CopyDialog(self.image_set_id, version), asked)

    def _copy(self, version: str, request: CopyRequest) -> None:
        service = self.ahi.services.imagesets
        self.warn_access()

        def run() -> Any:
            return service.copy(
                self.datastore_id, self.image_set_id, version, request.destination_id,
                force=request.force, promote_to_primary=request.promote_to_primary,
            )

        def started(result: Any) -> None:
            where = "into " + self.ahi.formatter.text(result.destination.id) if request.destination_id else "to new image set " + self.ahi.formatter.text(result.destination.id)
            self.notify(f"Copying {where} (version {result.destination.version_id})", title="CopyImageSet accepted")
            self.follow("copy", result.destination)

        self.call_in_background("CopyImageSet", run, started)

    @mutating("image_set_detail.delete")
    def action_delete(self) -> None:
        if self.writable_latest() is None:
            return
        service = self.ahi.services.imagesets

        def proceed() -> None:
            self.call_in_background(
                "DeleteImageSet", lambda: service.delete(self.datastore_id, self.image_set_id), lambda state: self.follow("delete", state)
            )

        self.confirm_then("image_set_detail.delete", "Image set", self.image_set_id, proceed)

    def after_settled(self, following: Following, state: ImageSetState | None) -> None:
        super().after_settled(following, state)
        if following.image_set_id != self.image_set_id:
            self.notify(f"The copy is {self.ahi.formatter.text(following.image_set_id)}", title="copy")
        if following.image_set_id == self.image_set_id and (state is None or state.state == "DELETED"):
            for screen in self.app.screen_stack:
                forget = getattr(screen, "forget", None)
                if callable(forget):
                    forget(self.image_set_id)
