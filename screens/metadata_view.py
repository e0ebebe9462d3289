"""An image set version's metadata as a tree, with search inside it, raw JSON, export and edits.

`/` searches labels and values (n / N step through the matches), `y` shows the raw JSON of the node
under the cursor (the whole document at the root), `e` exports the document to a file, `u` updates
the attribute under the cursor (or inserts one at that level), `x` removes the attribute, instance or
series under the cursor, `v` previews the instance under the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Iterable

from rich.text import Text
from textual import on
from textual.binding import BindingType
from textual.widget import Widget
from textual.widgets import Input, Static, Tree
from textual.widgets.tree import TreeNode

from screens.frame_viewer import FrameViewerScreen
from screens.image_set_base import ImageSetScreen
from screens.lock_banner import Following, LockBanner
from screens.patch_editor import PatchEditor
from screens.prompt_dialog import PromptDialog
from services.imagesets import ImageSetState, MetadataDocument, export_metadata, readable_version
from services.metadata_patch import AttributeRef, MetadataUpdate, remove_attribute, remove_instance, remove_series, removal_problems
from services.metadata_tree import MetadataNode, NodeKind, ancestors, build_tree, find
from tui.actions import REGISTRY, Action, Confirm, mutating
from tui.dialogs.json_view import JsonScreen

SCOPE = "metadata_view"
REGISTRY.register(
    Action("metadata.find", "find", "slash", "Search in the metadata", SCOPE),
    Action("metadata.next_match", "next_match", "n", "Next match", SCOPE, footer=False),
    Action("metadata.previous_match", "previous_match", "N", "Previous match", SCOPE, footer=False),
    Action("metadata.export", "export", "e", "Export to file", SCOPE, command="export"),
    Action("metadata.preview", "preview", "v", "Preview this instance", SCOPE, command="preview"),
    Action("metadata.update", "update_attribute", "u", "Update attribute", SCOPE, mutates=True, confirm=Confirm.YES_NO, command="update"),
    Action("metadata.remove", "remove", "x", "Remove attribute/instance/series", SCOPE, mutates=True, confirm=Confirm.YES_NO, command="remove"),
)
CONTAINERS = (NodeKind.ROOT, NodeKind.LEVEL, NodeKind.GROUP, NodeKind.SERIES, NodeKind.INSTANCE, NodeKind.FRAME, NodeKind.ITEM)


@dataclass(frozen=True)
class LoadedMetadata:
    """One load: the latest version's state, the version shown and its document as a tree."""

    latest: ImageSetState
    version_id: str
    metadata: MetadataDocument
    tree: MetadataNode


def node_label(node: MetadataNode) -> Text:
    """How a node reads in the tree: containers bold, values after a colon, private tags dim."""
    if node.value is None:
        return Text(node.label, style="bold" if node.kind in CONTAINERS else "")
    container = node.kind in CONTAINERS
    label_style = "bold" if container else "dim" if node.label.startswith("(") else ""
    return Text.assemble((node.label, label_style), ": ", (node.value, "" if container else "cyan"))


class MetadataViewScreen(ImageSetScreen):
    """`m` from the image set detail; Esc goes back."""

    CSS_PATH = "metadata_view.tcss"
    SCOPE = SCOPE
    FETCH_OPERATION = "GetImageSetMetadata"
    BINDINGS: ClassVar[list[BindingType]] = REGISTRY.bindings(SCOPE)

    def __init__(self, datastore_id: str, image_set_id: str, version_id: str | None = None) -> None:
        super().__init__(datastore_id, image_set_id)
        self.version_id = version_id
        self.crumb = "Metadata"
        self.loaded: LoadedMetadata | None = None
        self.matches: list[MetadataNode] = []
        self.match_index = 0
        self._tree_nodes: dict[int, TreeNode[MetadataNode]] = {}
        self._populated: set[int] = set()
        self._keep_path: tuple[str, ...] | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield LockBanner(id="lock")
        yield Input(placeholder="search labels and values (Enter jumps, n/N next/previous, Esc closes)", id="tree-search")
        yield Tree[MetadataNode]("metadata", id="metadata-tree")
        yield Static("", id="node-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#tree-search", Input).display = False
        self.query_one(Tree).focus()

    # --- loading --------------------------------------------------------------------------------

    def fetch(self) -> LoadedMetadata:
        service = self.ahi.services.imagesets
        latest = service.get(self.datastore_id, self.image_set_id)
        version = self.version_id or readable_version(latest) or "1"
        metadata = service.metadata(self.datastore_id, self.image_set_id, version)
        return LoadedMetadata(latest, version, metadata, build_tree(metadata.document))

    def show(self, result: LoadedMetadata) -> None:
        keep = self._keep_path or self._cursor_path()
        self.loaded = result
        self.follow_if_locked(result.latest)
        self.version_id = result.version_id
        tree = self.query_one(Tree)
        tree.clear()
        self._tree_nodes, self._populated = {id(result.tree): tree.root}, set()
        tree.root.set_label(node_label(result.tree))
        tree.root.data = result.tree
        self._populate(tree.root)
        tree.root.expand()
        for child in tree.root.children:
            if child.data is not None and child.data.kind is NodeKind.LEVEL:
                self._populate(child)
                child.expand()
        self.matches = []
        self._keep_path = None
        if keep:
            target = next((node for node in result.tree.walk() if node.path == keep), None)
            if target is not None:
                self._reveal(target)
        self.update_status()

    def _populate(self, tree_node: TreeNode[MetadataNode]) -> None:
        """Add the tree nodes of a node's children (once; big documents are built as they are opened)."""
        node = tree_node.data
        if node is None or id(node) in self._populated:
            return
        self._populated.add(id(node))
        for child in node.children:
            if child.children:
                added = tree_node.add(node_label(child), data=child)
            else:
                added = tree_node.add_leaf(node_label(child), data=child)
            self._tree_nodes[id(child)] = added

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded[MetadataNode]) -> None:
        self._populate(event.node)

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[MetadataNode]) -> None:
        node = event.node.data
        detail = self.query_one("#node-detail", Static)
        if node is None:
            detail.update("")
            return
        where = " › ".join(node.path) or "(document)"
        text = Text.assemble(("path ", "dim"), where)
        if node.vr:
            text.append(f"  VR {node.vr}", style="dim")
        if node.raw is not None and not isinstance(node.raw, (dict, list)):
            text.append("\nraw ", style="dim")
            text.append(self.ahi.formatter.text(node.raw))
        detail.update(text)

    def _cursor_node(self) -> MetadataNode | None:
        cursor = self.query_one(Tree).cursor_node
        return cursor.data if cursor is not None else None

    def _cursor_path(self) -> tuple[str, ...] | None:
        node = self._cursor_node() if self.loaded is not None else None
        return node.path if node is not None else None

    def _reveal(self, target: MetadataNode) -> None:
        """Open the branches down to `target` and put the cursor on it."""
        assert self.loaded is not None
        for ancestor in ancestors(self.loaded.tree, target):
            tree_node = self._tree_nodes[id(ancestor)]
            self._populate(tree_node)
            tree_node.expand()
        tree_node = self._tree_nodes.get(id(target))
        if tree_node is not None:
            tree = self.query_one(Tree)
            _ = tree.last_line  # lays the expanded lines out now, so the node knows its line
            tree.move_cursor(tree_node)
            tree.call_after_refresh(tree.scroll_to_node, tree_node, animate=False)

    # --- search ---------------------------------------------------------------------------------

    def action_find(self) -> None:
        search = self.query_one("#tree-search", Input)
        search.display = True
        search.focus()

    @on(Input.Changed, "#tree-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.matches = find(self.loaded.tree, event.value) if self.loaded is not None else []
        self.match_index = 0
        self.update_status()

    @on(Input.Submitted, "#tree-search")
    def _search_submitted(self) -> None:
        self.query_one(Tree).focus()
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
        if search.has_focus:
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
            parts.append(f"{metadata.json_bytes / 1024:.1f} KiB JSON ({metadata.compressed_bytes / 1024:.1f} KiB gzip)")
        search = self.query_one("#tree-search", Input).value if self.is_mounted else ""
        if search:
            position = f"{self.match_index + 1}/{len(self.matches)}" if self.matches else "0"
            parts.append(f"search {search!r}: {position} matches")
        return parts + super().status_parts()

    # --- raw JSON, export, preview ----------------------------------------------------------------

    def current_resource(self) -> ImageSetState | None:
        return self.latest

    def action_raw_json(self) -> None:
        if self.loaded is None:
            return
        node = self._cursor_node() or self.loaded.tree
        document = self.loaded.metadata.document
        if node.kind is NodeKind.ROOT:
            self.app.push_screen(JsonScreen(f"{self.image_set_id} version {self.loaded.version_id} — metadata", document))
            return
        raw = node.raw if isinstance(node.raw, dict) else {node.path[-1] if node.path else node.label: node.raw}
        self.app.push_screen(JsonScreen(" › ".join(node.path), raw))

    def action_export(self) -> None:
        if self.loaded is None:
            return
        loaded = self.loaded
        default = str(Path.cwd() / f"{self.image_set_id}-v{loaded.version_id}-metadata.json")

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                written = export_metadata(loaded.metadata.document, path)
            except OSError as exc:
                self.notify(f"Cannot write {path}: {exc.strerror or exc}", severity="error")
                return
            self.notify(f"{written} ({written.stat().st_size:,} bytes)", title="metadata exported")

        self.app.push_screen(PromptDialog("Export the metadata document (JSON) to", "An existing file is replaced.", default), chosen)

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
        if found is None or self.loaded is None:
            return
        latest, node = found
        ref = node.ref or self._level_ref(node)

        def edited(update: MetadataUpdate | None) -> None:
            if update is not None:
                self._keep_path = node.path
                self.send_update("update", update, latest)

        self.app.push_screen(PatchEditor(self.loaded.metadata.document, ref), edited)

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
        if found is None or self.loaded is None:
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
                self.notify("; ".join(p.rule for p in problems), severity="error", title="cannot remove")
                return
            update, label = remove_attribute(node.ref, node.raw), node.ref.describe()
        else:
            self.notify("Put the cursor on an attribute, an instance or a series", severity="warning")
            return

        def confirmed(answer: MetadataUpdate | None) -> None:
            if answer is not None:
                self.send_update(f"remove {label}", answer, latest)

        self.app.push_screen(PatchEditor(document, removal=update, removal_label=label), confirmed)

    def after_settled(self, following: Following, state: ImageSetState | None) -> None:
        if state is not None and not state.failed and state.state != "DELETED":
            self.version_id = None
        super().after_settled(following, state)

