"""The outcome of a job as one keyboard tree: failure reasons (expandable to their files), warnings,
malformed lines and generated image sets.

Files are added a page at a time, so a reason with 50,000 files costs nothing until it is opened,
and each shown page asks the screen (via `FilesShown`) for the input objects' size and date.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from rich.text import Text, TextType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ahi.services.failure_reasons import FailureGroup
from ahi.services.input_objects import ObjectInfo, ObjectLookup
from ahi.services.job_output import FailureLine, ImageSetSummary, MalformedLine, WarningLine
from ahi.tui.literal import safe

#: Files added per page when a reason is opened.
PAGE = 100
#: Longest label drawn (reasons and S3 keys can be long; the raw line is one key away).
LABEL_LIMIT = 400


def size_text(size: int) -> str:
    """Bytes in the largest unit that keeps the number readable (1024-based)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


@dataclass(frozen=True)
class MoreFiles:
    """The "… N more" leaf at the end of a reason's page."""

    group: FailureGroup


@dataclass(frozen=True)
class Section:
    """A top-level branch (its name is what the screen looks for)."""

    name: str


class OutcomeTree(Tree[Any]):
    """Failures first and open; the rest below. Node data: FailureGroup, FailureLine, WarningLine, ..."""

    class FilesShown(Message):
        """New file rows are on screen; their input objects may be looked up."""

        def __init__(self, input_files: list[str]) -> None:
            super().__init__()
            self.input_files = input_files

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("outcome", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.failures = self.root.add("Failures", Section("failures"), expand=True)
        self.warnings = self.root.add("Warnings", Section("warnings"))
        self.image_sets = self.root.add("Image sets", Section("image sets"))
        #: Added only when some line could not be read.
        self.malformed: TreeNode[Any] | None = None
        self._group_nodes: dict[Any, TreeNode[Any]] = {}
        self._file_nodes: dict[str, list[TreeNode[Any]]] = defaultdict(list)
        self._lookups: dict[str, ObjectLookup] = {}

    def process_label(self, label: TextType) -> Text:
        """Every label is literal on one line: keys and reasons come from failure.ndjson, written by anyone."""
        return safe(label, limit=LABEL_LIMIT, multiline=False)

    # --- failures -------------------------------------------------------------------------------------

    def show_groups(self, groups: list[FailureGroup], total: int, *, loading: bool) -> None:
        """Add new reasons, update counts; once loaded, order reasons by count (opened ones stay open)."""
        more = " — reading…" if loading else ""
        self.failures.set_label(Text.assemble(("Failures", "bold"), f" ({total} in {len(groups)} reason(s)){more}"))
        if not loading:
            opened = {key for key, node in self._group_nodes.items() if node.is_expanded}
            self.failures.remove_children()
            self._group_nodes.clear()
            self._file_nodes.clear()
        for group in groups:
            node = self._group_nodes.get(group.key)
            if node is None:
                node = self._group_nodes[group.key] = self.failures.add(self._group_label(group), group, allow_expand=True)
            else:
                node.set_label(self._group_label(group))
        if not loading:
            for key in opened:
                self._group_nodes[key].expand()
        if not groups and not loading:
            self.failures.add_leaf(Text("no failed files", style="dim"))
        if not loading and groups and self.cursor_line < 1:
            self.call_after_refresh(self.move_cursor, self._group_nodes[groups[0].key])

    def _group_label(self, group: FailureGroup) -> Text:
        """Count, whether `R` can re-import it (in words: docs/reimport.md), then the reason."""
        verdict = group.retry
        mark = (f"{verdict.mark}  ", "green" if verdict.helps else "yellow")
        return Text.assemble((f"{group.count:>6}  ", "bold"), mark, (group.key.exception_type, "red"), f": {group.key.pattern}")

    def open_group(self, node: TreeNode[Any]) -> None:
        """First expansion of a reason: its first page of files."""
        if isinstance(node.data, FailureGroup) and not node.children:
            self._add_page(node, node.data, 0)

    def open_more(self, node: TreeNode[Any]) -> None:
        """The "more" leaf was chosen: replace it with the next page."""
        if not isinstance(node.data, MoreFiles) or node.parent is None:
            return
        parent, group = node.parent, node.data.group
        shown = len(parent.children) - 1
        node.remove()
        self._add_page(parent, group, shown)

    def _add_page(self, node: TreeNode[Any], group: FailureGroup, start: int) -> None:
        page = group.members[start : start + PAGE]
        for failure in page:
            leaf = node.add_leaf(self._file_label(failure), failure)
            self._file_nodes[failure.input_file].append(leaf)
        rest = group.count - start - len(page)
        if rest > 0:
            node.add_leaf(Text(f"… {rest} more (Enter)", style="italic"), MoreFiles(group))
        self.post_message(self.FilesShown([f.input_file for f in page]))

    def _file_label(self, failure: FailureLine | WarningLine) -> Text:
        fmt = self.app.formatter  # type: ignore[attr-defined]
        text = Text.assemble((f"line {failure.span.number:<6}", "dim"), fmt.text(failure.input_file))
        lookup = self._lookups.get(failure.input_file)
        if isinstance(lookup, ObjectInfo):
            text.append(f"  {size_text(lookup.size)}  {fmt.time(lookup.last_modified)}", style="cyan")
        elif lookup is not None:
            text.append(f"  {lookup.kind.value} ({lookup.code})", style="yellow")
        return text

    def show_lookups(self, found: dict[str, ObjectLookup]) -> None:
        """Put sizes and dates next to the files they belong to."""
        self._lookups.update(found)
        for input_file in found:
            for leaf in self._file_nodes.get(input_file, []):
                leaf.set_label(self._file_label(leaf.data))

    # --- the other sections -----------------------------------------------------------------------

    def show_warnings(self, lines: list[WarningLine], problem: str = "") -> None:
        self.warnings.remove_children()
        by_type: dict[str, list[WarningLine]] = defaultdict(list)
        for line in lines:
            for warning in line.warnings or ():
                by_type[warning.type or "warning"].append(line)
        self.warnings.set_label(Text.assemble(("Warnings", "bold"), f" ({len(lines)} file(s))"))
        for kind, members in sorted(by_type.items(), key=lambda item: -len(item[1])):
            branch = self.warnings.add(Text.assemble((f"{len(members):>6}  ", "bold"), (kind, "yellow")))
            for line in members[:PAGE]:
                leaf = branch.add_leaf(self._file_label(line), line)
                self._file_nodes[line.input_file].append(leaf)
            self.post_message(self.FilesShown([line.input_file for line in members[:PAGE]]))
        if problem:
            self.warnings.add_leaf(Text(problem, style="yellow"))

    def show_malformed(self, lines: list[MalformedLine], section: str) -> None:
        if not lines:
            return
        if self.malformed is None:
            self.malformed = self.root.add("Malformed lines", Section("malformed"), expand=True)
        for line in lines[:PAGE]:
            label = Text.assemble((f"{section} line {line.span.number}: ", "yellow"), line.reason)
            self.malformed.add_leaf(label, line)
        label = Text.assemble(("Malformed lines", "bold yellow"), f" ({len(self.malformed.children)} shown)")
        self.malformed.set_label(label)

    def show_image_sets(self, image_sets: tuple[ImageSetSummary, ...]) -> None:
        fmt = self.app.formatter  # type: ignore[attr-defined]
        self.image_sets.remove_children()
        self.image_sets.set_label(Text.assemble(("Image sets", "bold"), f" ({len(image_sets)})"))
        for summary in image_sets:
            primary = "primary" if summary.is_primary else "non-primary" if summary.is_primary is False else ""
            version = f"v{summary.image_set_version}" if summary.image_set_version is not None else ""
            label = Text.assemble(
                fmt.text(summary.image_set_id), (f"  {summary.matched_instances or 0} instance(s) {version} {primary}", "dim")
            )
            self.image_sets.add_leaf(label, summary)
