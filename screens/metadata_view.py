"""An image set version's metadata as a tree, with search inside it, raw JSON, export and edits.

`/` searches labels and values (n / N step through the matches), `y` shows the raw JSON of the node
under the cursor (the whole document at the root), `e` exports the document to a file, `u` updates
the attribute under the cursor (or inserts one at that level), `x` removes the attribute, instance or
series under the cursor, `v` previews the instance under the cursor, `E` exports the instance or series under
the cursor (else the whole image set) as .dcm files and `w` copies its DICOMweb URL (docs/dicomweb.md#console).

The document comes from whoever answers GetImageSetMetadata, so its size is bounded (docs/console-limits.md):
one that unpacks past the cap is shown as such and can only be exported, unparsed; branches are built
when opened and long lists show CHUNK lines at a time; every value and key goes through `literal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from ahi.screens.dicomweb_export import ExportStatus, ask_export_folder, copy_url
from ahi.screens.frame_viewer import FrameViewerScreen
from ahi.screens.image_set_base import ImageSetScreen
from ahi.screens.patch_editor import PatchEditorDialog
from ahi.screens.prompt_dialog import PromptDialog
from ahi.services.dicomweb_export import plan_export, study_uid
from ahi.services.dicomweb_urls import DicomwebTarget
from ahi.services.errors import AwsCallError
from ahi.services.imagesets import DocumentTooLarge, ImageSetState, MetadataDocument, export_metadata, readable_version
from ahi.services.metadata_patch import AttributeRef, MetadataUpdate, remove_attribute, remove_instance, remove_series, removal_problems
from ahi.services.metadata_tree import MetadataNode, NodeKind, ancestors, build_tree, find, json_size_over, locate
from ahi.tui.actions import REGISTRY, Action, Confirm, mutating
from ahi.tui.dialogs.json_view import JsonDialog
from ahi.tui.literal import literal
from ahi.tui.widgets.lock_banner import Following, LockBanner

SCOPE = "metadata_view"
REGISTRY.register(
    Action("metadata.find", "find", "slash", "Search in the metadata", SCOPE),
    Action("metadata.next_match", "next_match", "n", "Next match", SCOPE, footer=False),
    Action("metadata.previous_match", "previous_match", "N", "Previous match", SCOPE, footer=False),
    Action("metadata.export", "export", "e", "Export to file", SCOPE, command="export"),
    Action("metadata.preview", "preview", "v", "Preview this instance", SCOPE, command="preview"),
    Action("metadata.update", "update_attribute", "u", "Update attribute", SCOPE, mutates=True, confirm=Confirm.YES_NO, command="update"),
    Action("metadata.remove", "remove", "x", "Remove attribute/instance/series", SCOPE, mutates=True, confirm=Confirm.YES_NO, command="remove"),
    Action("metadata.export_dicom", "export_dicom", "E", "Export .dcm: the instance or series under the cursor, else all", SCOPE, footer=False, command="dcm"),
    Action("metadata.copy_url", "copy_dicomweb_url", "w", "Copy DICOMweb URL: the instance, series or study", SCOPE, footer=False, command="url"),
)
CONTAINERS = (NodeKind.ROOT, NodeKind.LEVEL, NodeKind.GROUP, NodeKind.SERIES, NodeKind.INSTANCE, NodeKind.FRAME, NodeKind.ITEM)
#: Children shown at a time under one branch (a series may hold thousands of instances); a last line
#: says how many more there are and Enter on it shows the next CHUNK.
CHUNK = 200
#: Characters of a label and of a value drawn on one tree line (the rest is cut with `…`).
LABEL_CHARS = 200
VALUE_CHARS = 400
#: The most matches one search collects (the status line says when there are more).
MAX_MATCHES = 10_000
#: The largest JSON `y` shows: the raw view lays its whole text out on the UI thread (about 2 s for 64 KiB
#: here), so larger branches are exported with `e` instead.
RAW_VIEW_CHARS = 64 * 1024
#: The most bytes `e` writes for a document too large to open (streamed to the file, never parsed).
RAW_EXPORT_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class LoadedMetadata:
    """One load: the latest version's state, the version shown and its document as a tree, or, for a
    document past the cap, why it was not opened (`too_large`; no document, no tree)."""

    latest: ImageSetState
    version_id: str
    metadata: MetadataDocument | None
    tree: MetadataNode | None
    too_large: DocumentTooLarge | None = None


@dataclass(frozen=True)
class MoreLines:
    """The first or last line of a branch shown in part: Enter on it shows the previous (`earlier`) or
    next CHUNK children of `parent`."""

    parent: MetadataNode
    earlier: bool = False


@dataclass
class Window:
    """Which children of a branch have tree lines (`start` to `stop`), and its two "more" lines."""

    start: int
    stop: int
    earlier: TreeNode[Any] | None = None
    later: TreeNode[Any] | None = None


class SearchDone(Message):
    """A search worker finished: the matches for `needle` in `tree` (`capped` when it stopped at MAX_MATCHES)."""

    def __init__(self, tree: MetadataNode, needle: str, matches: list[MetadataNode], capped: bool) -> None:
        super().__init__()
        self.tree, self.needle, self.matches, self.capped = tree, needle, matches, capped


def node_label(node: MetadataNode) -> Text:
    """How a node reads in the tree: containers bold, values after a colon, private tags dim; literal."""
    container = node.kind in CONTAINERS
    if node.value is None:
        return literal(node.label, limit=LABEL_CHARS, style="bold" if container else "")
    label_style = "bold" if container else "dim" if node.label.startswith("(") else ""
    value = literal(node.value, limit=VALUE_CHARS, style="" if container else "cyan")
    return Text.assemble(literal(node.label, limit=LABEL_CHARS, style=label_style), ": ", value)


def too_large_text(error: DocumentTooLarge) -> Text:
    """What the view shows instead of a tree for a document past the cap."""
    cap_mib = error.cap / 2**20
    text = Text("This metadata document is too large to open.\n\n", style="bold")
    text.append(
        f"It is more than {cap_mib:,.0f} MiB (reading stopped after {error.compressed_read:,} bytes of its gzip body). "
        f"The service keeps at most 50 MB of metadata per image set version, so a document past {cap_mib:,.0f} MiB "
        "does not come from it; the console does not parse it.\n\n"
    )
    text.append("e", style="bold")
    text.append(
        f" writes it, unpacked but unparsed, to a file (up to {RAW_EXPORT_BYTES / 2**30:,.0f} GiB) for jq or a pager; "
    )
    text.append("Esc", style="bold")
    text.append(" goes back.")
    return text


class MetadataViewScreen(ImageSetScreen):
    """`m` from the image set detail; Esc goes back."""

    CSS_PATH = "metadata_view.tcss"
    SCOPE = SCOPE
    FETCH_OPERATION = "GetImageSetMetadata"

    def __init__(self, datastore_id: str, image_set_id: str, version_id: str | None = None) -> None:
        super().__init__(datastore_id, image_set_id)
        self.version_id = version_id
        self.crumb = "Metadata"
        self.loaded: LoadedMetadata | None = None
        self.matches: list[MetadataNode] = []
        self.match_index = 0
        self.matches_capped = False
        #: The search text the matches are for (None before any search lands).
        self._matches_for: str | None = None
        self._jump_when_found = False
        self._tree_nodes: dict[int, TreeNode[Any]] = {}
        #: The children shown per opened branch (by node id).
        self._windows: dict[int, Window] = {}
        self._keep_path: tuple[str, ...] | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield LockBanner(id="lock")
        yield Input(placeholder="search labels and values (Enter jumps, n/N next/previous, Esc closes)", id="tree-search")
        yield Tree[Any]("metadata", id="metadata-tree")
        yield Static("", id="too-large")
        yield Static("", id="node-detail")
        yield ExportStatus(id="dicomweb-export")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#tree-search", Input).display = False
        self.query_one("#too-large", Static).display = False
        self.query_one(Tree).focus()

    # --- loading --------------------------------------------------------------------------------

    def fetch(self) -> LoadedMetadata:
        service = self.ahi.services.imagesets
        latest = service.get(self.datastore_id, self.image_set_id)
        version = self.version_id or readable_version(latest) or "1"
        try:
            metadata = service.metadata(self.datastore_id, self.image_set_id, version)
        except DocumentTooLarge as error:
            return LoadedMetadata(latest, version, None, None, error)
        return LoadedMetadata(latest, version, metadata, build_tree(metadata.document))

    def show(self, result: LoadedMetadata) -> None:
        keep = self._keep_path or self._cursor_path()
        self.loaded = result
        self.follow_if_locked(result.latest)
        self.version_id = result.version_id
        tree = self.query_one(Tree)
        tree.clear()
        self._tree_nodes, self._windows = {}, {}
        self.matches, self._matches_for, self.matches_capped = [], None, False
        self._keep_path = None
        notice = self.query_one("#too-large", Static)
        if result.tree is None:
            tree.display = False
            notice.display = True
            notice.update(too_large_text(result.too_large) if result.too_large else "")
            notice.can_focus = True
            notice.focus()
            self.update_status()
            return
        if notice.has_focus:
            tree.focus()
        tree.display, notice.display, notice.can_focus = True, False, False
        self._tree_nodes[id(result.tree)] = tree.root
        tree.root.set_label(node_label(result.tree))
        tree.root.data = result.tree
        self._populate(tree.root)
        tree.root.expand()
        for child in tree.root.children:
            if isinstance(child.data, MetadataNode) and child.data.kind is NodeKind.LEVEL:
                self._populate(child)
                child.expand()
        if keep:
            target = locate(result.tree, keep)
            if target is not None:
                self._reveal(target)
        search = self.query_one("#tree-search", Input).value
        if search.strip():
            self._start_search(search)
        self.update_status()

    def _populate(self, tree_node: TreeNode[Any]) -> None:
        """Add the first CHUNK tree lines of a node's children (once; branches are built as they are opened)."""
        node = tree_node.data
        if not isinstance(node, MetadataNode) or id(node) in self._windows:
            return
        self._windows[id(node)] = Window(0, 0)
        self._show(tree_node, 0, min(CHUNK, len(node.children)))

    def _show(self, tree_node: TreeNode[Any], start: int, stop: int) -> None:
        """Give children start..stop of the branch tree lines, next to those it has (or instead of them
        when the two ranges do not touch), with a "more" line for what is left on either side."""
        node = tree_node.data
        assert isinstance(node, MetadataNode)
        children, window = node.children, self._windows[id(node)]
        for marker in (window.earlier, window.later):
            if marker is not None:
                marker.remove()
        window.earlier = window.later = None
        if stop < window.start or start > window.stop or window.start == window.stop:
            self._forget(tree_node)
            window.start = window.stop = start
        first = tree_node.children[0] if tree_node.children else None
        for child in children[start : window.start]:
            self._add_line(tree_node, child, before=first)
        for child in children[max(start, window.stop) : stop]:
            self._add_line(tree_node, child)
        window.start, window.stop = min(start, window.start), max(stop, window.stop)
        if window.start > 0:
            text = Text(f"… {window.start:,} earlier (Enter shows the previous {min(CHUNK, window.start):,})", style="dim italic")
            window.earlier = tree_node.add_leaf(text, data=MoreLines(node, earlier=True), before=0)
        if window.stop < len(children):
            left = len(children) - window.stop
            text = Text(f"… {left:,} more (Enter shows the next {min(CHUNK, left):,})", style="dim italic")
            window.later = tree_node.add_leaf(text, data=MoreLines(node))

    def _add_line(self, tree_node: TreeNode[Any], child: MetadataNode, before: TreeNode[Any] | None = None) -> None:
        if child.expandable:
            added = tree_node.add(node_label(child), data=child, before=before)
        else:
            added = tree_node.add_leaf(node_label(child), data=child, before=before)
        self._tree_nodes[id(child)] = added

    def _forget(self, tree_node: TreeNode[Any]) -> None:
        """Remove a branch's tree lines and what is known about the lines under them."""
        pending = list(tree_node.children)
        while pending:
            line = pending.pop()
            pending.extend(line.children)
            if isinstance(line.data, MetadataNode):
                self._tree_nodes.pop(id(line.data), None)
                self._windows.pop(id(line.data), None)
        tree_node.remove_children()

    def _show_through(self, tree_node: TreeNode[Any], child: MetadataNode) -> None:
        """Make sure `child` has a tree line: the chunk it is in is shown (joined to the lines shown if adjacent)."""
        node = tree_node.data
        assert isinstance(node, MetadataNode)
        position = next(i for i, candidate in enumerate(node.children) if candidate is child)
        start = position // CHUNK * CHUNK
        self._show(tree_node, start, min(len(node.children), start + CHUNK))

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        self._populate(event.node)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[Any]) -> None:
        more = event.node.data
        if not isinstance(more, MoreLines):
            return
        parent = self._tree_nodes.get(id(more.parent))
        window = self._windows.get(id(more.parent))
        if parent is None or window is None:
            return
        if more.earlier:
            self._show(parent, max(0, window.start - CHUNK), window.start)
            self.query_one(Tree).move_cursor(self._tree_nodes[id(more.parent.children[window.start])])
        else:
            self._show(parent, window.stop, min(len(more.parent.children), window.stop + CHUNK))

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        node = event.node.data
        detail = self.query_one("#node-detail", Static)
        if not isinstance(node, MetadataNode):
            detail.update("")
            return
        text = Text()
        text.append("path ", style="dim")
        text.append_text(literal(" › ".join(node.path) or "(document)", limit=VALUE_CHARS))
        if node.vr:
            text.append_text(literal(f"  VR {node.vr}", limit=16, style="dim"))
        if node.raw is not None and not isinstance(node.raw, (dict, list)):
            text.append("\nraw ", style="dim")
            text.append_text(self.ahi.formatter.literal(node.raw, limit=VALUE_CHARS))
        detail.update(text)

    def _cursor_node(self) -> MetadataNode | None:
        cursor = self.query_one(Tree).cursor_node
        data = cursor.data if cursor is not None else None
        return data if isinstance(data, MetadataNode) else None

    def _cursor_path(self) -> tuple[str, ...] | None:
        node = self._cursor_node() if self.loaded is not None else None
        return node.path if node is not None else None

    def _reveal(self, target: MetadataNode) -> None:
        """Open the branches down to the node at `target.path` (showing the chunks it is in) and put the cursor on it."""
        assert self.loaded is not None and self.loaded.tree is not None
        root = self.loaded.tree
        kept = locate(root, target.path)
        if kept is None:
            return
        parent_line = self._tree_nodes[id(root)]
        for node in [*ancestors(root, kept)[1:], kept]:
            self._populate(parent_line)
            if id(node) not in self._tree_nodes:
                self._show_through(parent_line, node)
            parent_line.expand()
            parent_line = self._tree_nodes[id(node)]
        tree = self.query_one(Tree)
        _ = tree.last_line  # lays the expanded lines out now, so the node knows its line
        tree.move_cursor(parent_line)
        tree.call_after_refresh(tree.scroll_to_node, parent_line, animate=False)

    # --- search ---------------------------------------------------------------------------------

    @on(Input.Changed, "#tree-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.matches, self.match_index, self.matches_capped, self._matches_for = [], 0, False, None
        self._start_search(event.value)
        self.update_status()

    def _start_search(self, needle: str) -> None:
        if self.loaded is not None and self.loaded.tree is not None and needle.strip():
            self._search(self.loaded.tree, needle)
        else:
            self._matches_for = needle

    @work(thread=True, exclusive=True, group="metadata-search", exit_on_error=False)
    def _search(self, tree: MetadataNode, needle: str) -> None:
        """Walk the whole document off the UI thread (a search reaches branches no one opened)."""
        worker = get_current_worker()
        found = find(tree, needle, MAX_MATCHES + 1, stop=lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.post_message(SearchDone(tree, needle, found[:MAX_MATCHES], len(found) > MAX_MATCHES))

    @on(SearchDone)
    def _search_done(self, message: SearchDone) -> None:
        current = self.query_one("#tree-search", Input).value
        if self.loaded is None or message.tree is not self.loaded.tree or message.needle != current:
            return
        self.matches, self.match_index, self.matches_capped, self._matches_for = message.matches, 0, message.capped, message.needle
        if self._jump_when_found:
            self._jump_when_found = False
            self._jump_to_first()
        self.update_status()

    @on(Input.Submitted, "#tree-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.query_one(Tree).focus()
        if self._matches_for != event.value:
            self._jump_when_found = True
            return
        self._jump_to_first()

    def _jump_to_first(self) -> None:
        if not self.matches:
            self.notify("No match", severity="warning")
            return
        self._reveal(self.matches[0])

    def action_next_match(self) -> None:
        self._step_match(1)

    def action_previous_match(self) -> None:
        self._step_match(-1)

    def _step_match(self, step: int) -> None:
        if not self.matches:
            self.notify("No search (press / first)", severity="warning")
            return
        self.match_index = (self.match_index + step) % len(self.matches)
        self._reveal(self.matches[self.match_index])
        self.update_status()

    def action_back(self) -> None:
        search = self.query_one("#tree-search", Input)
        if search.has_focus and search.display:
            search.display = False
            search.value = ""
            self.query_one(Tree).focus()
            return
        super().action_back()

    def status_parts(self) -> list[str]:
        parts: list[str] = []
        if self.loaded is not None:
            metadata = self.loaded.metadata
            latest = self.loaded.latest.version_id
            which = "latest" if self.loaded.version_id == latest else f"latest is {latest}"
            parts.append(f"version {self.loaded.version_id} ({which})")
            if metadata is not None:
                parts.append(f"{metadata.json_bytes / 1024:.1f} KiB JSON ({metadata.compressed_bytes / 1024:.1f} KiB gzip)")
            elif self.loaded.too_large is not None:
                parts.append(f"over {self.loaded.too_large.cap / 2**20:,.0f} MiB JSON: not opened")
        search = self.query_one("#tree-search", Input).value if self.is_mounted else ""
        if search:
            if self._matches_for != search and search.strip():
                parts.append(f"search {search!r}: searching…")
            else:
                more = "+" if self.matches_capped else ""
                position = f"{self.match_index + 1}/{len(self.matches)}{more}" if self.matches else "0"
                parts.append(f"search {search!r}: {position} matches")
        return parts + super().status_parts()

    # --- raw JSON, export, preview ----------------------------------------------------------------

    def current_resource(self) -> ImageSetState | None:
        return self.latest

    def action_find(self) -> None:
        if self.loaded is not None and self.loaded.tree is None:
            self.notify("This document is too large to open; e exports it", severity="warning")
            return
        search = self.query_one("#tree-search", Input)
        search.display = True
        search.focus()

    def action_raw_json(self) -> None:
        if self.loaded is None:
            return
        if self.loaded.metadata is None or self.loaded.tree is None:
            self.notify("This document is too large to show; e exports it to a file", severity="warning")
            return
        node = self._cursor_node() or self.loaded.tree
        document = self.loaded.metadata.document
        raw: Any = document if node.kind is NodeKind.ROOT else node.raw
        too_big = self.loaded.metadata.json_bytes > RAW_VIEW_CHARS if node.kind is NodeKind.ROOT else json_size_over(raw, RAW_VIEW_CHARS)
        if too_big:
            self.notify(f"This branch is over {RAW_VIEW_CHARS // 1024} KiB of JSON, more than y lays out; e exports the document", severity="warning")
            return
        if node.kind is NodeKind.ROOT:
            self.app.push_screen(JsonDialog(f"{self.image_set_id} version {self.loaded.version_id} — metadata", document))
            return
        shown = raw if isinstance(raw, dict) else {node.path[-1] if node.path else node.label: raw}
        self.app.push_screen(JsonDialog(" › ".join(node.path), shown))

    def action_export(self) -> None:
        if self.loaded is None:
            return
        loaded = self.loaded
        default = str(Path.cwd() / f"{self.image_set_id}-v{loaded.version_id}-metadata.json")
        if loaded.metadata is None:
            hint = f"The document is written unpacked and unparsed, up to {RAW_EXPORT_BYTES / 2**30:,.0f} GiB. An existing file is replaced."
        else:
            hint = "An existing file is replaced."

        def chosen(path: str | None) -> None:
            if path:
                self._export(loaded, path)

        self.app.push_screen(PromptDialog("Export the metadata document (JSON) to", hint, default), chosen)

    @work(thread=True, exclusive=True, group="metadata-export", exit_on_error=False)
    def _export(self, loaded: LoadedMetadata, path: str) -> None:
        """Write the document off the UI thread: the parsed one as indented JSON, one too large to open streamed."""
        try:
            if loaded.metadata is not None:
                written = export_metadata(loaded.metadata.document, path)
                message = f"{written} ({written.stat().st_size:,} bytes)"
            else:
                service = self.ahi.services.imagesets
                raw = service.export_raw_metadata(self.datastore_id, self.image_set_id, loaded.version_id, path, RAW_EXPORT_BYTES)
                cut = f", cut at {RAW_EXPORT_BYTES:,} bytes" if raw.cut else ""
                message = f"{raw.path} ({raw.written:,} bytes, unparsed{cut})"
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Cannot write {path}: {exc.strerror or exc}", severity="error", markup=False)
        except AwsCallError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", title="export failed", markup=False)
        else:
            self.app.call_from_thread(self.notify, message, title="metadata exported", markup=False)

    # --- DICOMweb (the latest version: what GetDICOMInstance serves) -------------------------------

    def _cursor_uids(self) -> tuple[str | None, str | None]:
        """The series and instance the cursor is in (None above that level)."""
        node = self._cursor_node()
        if node is None:
            return None, None
        ref = node.ref
        return node.series_uid or (ref.series_uid if ref else None), node.sop_uid or (ref.sop_uid if ref else None)

    def _dicomweb_document(self) -> Any:
        loaded = self.loaded
        if loaded is None or loaded.metadata is None:
            self.notify("The metadata is not loaded", severity="warning")
            return None
        return loaded.metadata.document

    def action_export_dicom(self) -> None:
        """The instance or series under the cursor, or else the whole image set, as .dcm files."""
        document = self._dicomweb_document()
        status = self.query_one(ExportStatus)
        if document is None:
            return
        if status.running:
            self.notify("An export is running; it ends first", severity="warning")
            return
        series, sop = self._cursor_uids()
        items = plan_export(self.datastore_id, self.image_set_id, document, series, sop)
        if not items:
            self.notify("Nothing to export here", severity="warning")
            return
        what = f"instance {sop}" if sop else f"the {len(items)} instances of series {series}" if series else f"the {len(items)} instances of image set {self.image_set_id}"
        service = self.ahi.services.dicomweb
        ask_export_folder(self, what, lambda folder: status.start(service, items, folder))

    def action_copy_dicomweb_url(self) -> None:
        """The URL of the instance or series under the cursor, or else of the study."""
        document = self._dicomweb_document()
        study = study_uid(document) if document is not None else None
        if document is not None and study is None:
            self.notify("The metadata names no StudyInstanceUID", severity="warning")
        if study is None or self.loaded is None:
            return
        pinned = None if self.loaded.latest.is_primary is True else self.image_set_id
        target = DicomwebTarget(self.datastore_id, study, image_set_id=pinned)
        series, sop = self._cursor_uids()
        if series:
            target = target.instance(series, sop) if sop else target.series(series)
        copy_url(self, self.ahi.services.dicomweb, target)

    def action_preview(self) -> None:
        node = self._cursor_node()
        sop = node.sop_uid if node is not None else None
        self.app.push_screen(FrameViewerScreen(self.datastore_id, self.image_set_id, self.version_id, sop))

    # --- edits ----------------------------------------------------------------------------------

    def _editable(self) -> tuple[ImageSetState, MetadataNode] | None:
        """The latest version and the node under the cursor, when an edit may start from here."""
        latest = self.writable_latest()
        if latest is None or self.loaded is None:
            return None
        if self.loaded.metadata is None:
            self.notify("This document is too large to open, so it cannot be edited here", severity="warning")
            return None
        if self.loaded.version_id != latest.version_id:
            self.notify(f"This is version {self.loaded.version_id}; edits apply to the latest ({latest.version_id}). Open the latest first.", severity="warning")
            return None
        node = self._cursor_node()
        if node is None:
            self.notify("Put the cursor on an attribute or a level", severity="warning")
            return None
        return latest, node

    @mutating("metadata.update")
    def action_update_attribute(self) -> None:
        found = self._editable()
        if found is None or self.loaded is None or self.loaded.metadata is None:
            return
        latest, node = found
        ref = node.ref or self._level_ref(node)

        def edited(update: MetadataUpdate | None) -> None:
            if update is not None:
                self._keep_path = node.path
                self.send_update("update", update, latest)

        self.app.push_screen(PatchEditorDialog(self.loaded.metadata.document, ref), edited)

    @staticmethod
    def _level_ref(node: MetadataNode) -> AttributeRef | None:
        """On a level, series or instance (not one of its attributes): insert an attribute there."""
        if node.kind is NodeKind.LEVEL:
            return AttributeRef(node.label, "")
        if node.kind is NodeKind.SERIES:
            return AttributeRef("Series", "", node.series_uid)
        if node.kind is NodeKind.INSTANCE:
            return AttributeRef("Instance", "", node.series_uid, node.sop_uid)
        return None

    @mutating("metadata.remove")
    def action_remove(self) -> None:
        found = self._editable()
        if found is None or self.loaded is None or self.loaded.metadata is None:
            return
        latest, node = found
        document = self.loaded.metadata.document
        if node.kind is NodeKind.INSTANCE and node.series_uid and node.sop_uid:
            update, label = remove_instance(node.series_uid, node.sop_uid), f"instance {node.sop_uid}"
        elif node.kind is NodeKind.SERIES and node.series_uid:
            update, label = remove_series(node.series_uid), f"series {node.series_uid}"
        elif node.ref is not None:
            problems = removal_problems(document, node.ref)
            if problems:
                self.notify("; ".join(p.rule for p in problems), severity="error", title="cannot remove", markup=False)
                return
            update, label = remove_attribute(node.ref, node.raw), node.ref.describe()
        else:
            self.notify("Put the cursor on an attribute, an instance or a series", severity="warning")
            return

        def confirmed(answer: MetadataUpdate | None) -> None:
            if answer is not None:
                self.send_update(f"remove {label}", answer, latest)

        self.app.push_screen(PatchEditorDialog(document, removal=update, removal_label=label), confirmed)

    def after_settled(self, following: Following, state: ImageSetState | None) -> None:
        if state is not None and not state.failed and state.state != "DELETED":
            self.version_id = None
        super().after_settled(following, state)

