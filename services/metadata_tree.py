"""A metadata document as a readable tree: Patient, Study, Series, Instances, frames; search inside it.

Values are shown the way people read them: person names as "Family, Given", dates as 2024-03-15,
times as 09:30:00, binary attributes (base64 in the document) as their size, null as "(empty)". Each
node keeps its JSON path so an editor can build a patch for it (services.metadata_patch).

The document may be as large as the service allows (or larger, from a hostile endpoint), so branches
are built when first opened, a search passes through unopened ones without keeping them, and values
are cut to VALUE_CHARS (docs/console-limits.md).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ahi.services.metadata_patch import AttributeRef, vr_of

_BINARY_VRS = frozenset({"OB", "OW", "OD", "OF", "OL", "OV", "UN"})
_PRIVATE_TAG = re.compile(r"[0-9A-Fa-f]{8}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
EMPTY_VALUE = "(empty)"
#: The most characters of a readable value kept on a node: a line shows far fewer, and a hostile
#: multi-megabyte value must not cost that much on every expand (docs/console-limits.md).
VALUE_CHARS = 2048
ELLIPSIS = "…"


class NodeKind(str, enum.Enum):
    ROOT = "root"
    LEVEL = "level"
    GROUP = "group"
    SERIES = "series"
    INSTANCE = "instance"
    FRAME = "frame"
    ATTRIBUTE = "attribute"
    ITEM = "item"


@dataclass(eq=False, slots=True)
class MetadataNode:
    """One line of the tree; `path` is where its value sits in the document.

    Children are built the first time they are asked for (`expand`), so opening a document with
    thousands of instances builds a few nodes, not all of them.
    """

    label: str
    kind: NodeKind
    path: tuple[str, ...]
    value: str | None = None
    raw: Any = None
    vr: str | None = None
    #: The attribute this node is, when it is one a patch can name (a DICOM attribute of a level).
    ref: AttributeRef | None = None
    series_uid: str | None = None
    sop_uid: str | None = None
    #: Builds the children; None for a leaf.
    expand: Callable[[], list[MetadataNode]] | None = field(default=None, repr=False)
    _children: list[MetadataNode] | None = field(default=None, repr=False)

    def text(self) -> str:
        """`label: value` (or the label alone for containers)."""
        return self.label if self.value is None else f"{self.label}: {self.value}"

    @property
    def expandable(self) -> bool:
        return self.expand is not None

    @property
    def children(self) -> list[MetadataNode]:
        """The children, built once and kept (on the UI thread: a search only passes through)."""
        if self._children is None:
            self._children = self.expand() if self.expand is not None else []
        return self._children

    @property
    def built(self) -> bool:
        return self._children is not None or self.expand is None

    def peek_children(self) -> list[MetadataNode]:
        """The kept children if built, else fresh ones that are not kept (a search passes through them)."""
        if self._children is not None:
            return self._children
        return self.expand() if self.expand is not None else []

    def walk(self) -> Iterator[MetadataNode]:
        """This node and every node under it, in tree order; branches not yet built are not kept."""
        yield self
        for child in self.peek_children():
            yield from child.walk()

    def matches(self, needle: str) -> bool:
        """Case-insensitive match of the label, the readable value or the raw scalar."""
        needle = needle.lower()
        haystack = [self.label, self.value or ""]
        if self.raw is not None and not isinstance(self.raw, (Mapping, list)):
            haystack.append(str(self.raw))
        return any(needle in text.lower() for text in haystack)


def readable(keyword: str, value: Any, vr: str | None = None, limit: int = VALUE_CHARS) -> str:
    """A value as a person reads it (see the module docstring), cut to `limit` characters with `…`."""
    text = _readable(keyword, value, vr or vr_of(keyword), limit)
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _joined(parts: Iterator[str], limit: int) -> str:
    """`", ".join(parts)`, stopping once past `limit` characters (a list may hold millions of values)."""
    out: list[str] = []
    size = 0
    for part in parts:
        out.append(part)
        size += len(part) + 2
        if size > limit:
            break
    return ", ".join(out)


def _readable(keyword: str, value: Any, vr: str | None, limit: int) -> str:
    if value is None or value == "" or value == []:
        return EMPTY_VALUE
    if isinstance(value, list):
        return _joined((_readable(keyword, item, vr, limit) for item in value), limit)
    if isinstance(value, Mapping):
        if "Alphabetic" in value:
            return person_name(str(value["Alphabetic"])[: limit + 1])
        return "{" + _joined((f"{k}: {_readable(k, v, vr_of(k), limit)}" for k, v in value.items()), limit) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if vr in _BINARY_VRS and isinstance(value, str):
        return binary_size(value)
    text = (value if isinstance(value, str) else str(value))[: limit + 1].strip()
    if vr == "PN":
        return person_name(text)
    if vr == "DA":
        return dicom_date(text)
    if vr == "TM":
        return dicom_time(text)
    if vr == "DT":
        return f"{dicom_date(text[:8])} {dicom_time(text[8:])}".strip() if len(text) >= 8 else text
    return text


def person_name(text: str) -> str:
    """`Family^Given^Middle^Prefix^Suffix` as `Family, Given Middle` (prefix and suffix kept around it)."""
    parts = (text.split("=")[0].split("^") + [""] * 5)[:5]
    family, given, middle, prefix, suffix = (part.strip() for part in parts)
    first = " ".join(part for part in (prefix, given, middle) if part)
    name = ", ".join(part for part in (family, first) if part)
    return f"{name} {suffix}".strip() if suffix else name or text


def dicom_date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


def dicom_time(text: str) -> str:
    whole, dot, fraction = text.partition(".")
    if not whole.isdigit() or len(whole) not in (2, 4, 6):
        return text
    clock = ":".join(whole[i : i + 2] for i in range(0, len(whole), 2))
    return f"{clock}.{fraction}" if dot and fraction else clock


def binary_size(encoded: str) -> str:
    """A base64 attribute's decoded size: `<2 bytes>` (counted from its length, never decoded)."""
    if len(encoded) % 4 or not _BASE64.fullmatch(encoded):
        return f"<{len(encoded)} characters>"
    size = len(encoded) // 4 * 3 - (len(encoded) - len(encoded.rstrip("=")))
    return f"<{size} byte{'s' if size != 1 else ''}>"


def build_tree(document: Mapping[str, Any]) -> MetadataNode:
    """The document as a tree whose branches are built when opened (series by SeriesNumber, instances by
    InstanceNumber); a value of the wrong JSON type reads as empty rather than failing."""
    title = document.get("ImageSetID", "")
    return MetadataNode(f"Image set {title}".strip(), NodeKind.ROOT, (), expand=lambda: _root_children(document))


def _root_children(document: Mapping[str, Any]) -> list[MetadataNode]:
    children = [
        MetadataNode(key, NodeKind.ATTRIBUTE, (key,), readable(key, document[key]), document[key])
        for key in ("SchemaVersion", "DatastoreID", "ImageSetID")
        if key in document
    ]
    patient = _mapping(document.get("Patient"))
    children.append(_level("Patient", ("Patient",), _mapping(patient.get("DICOM")), AttributeRef("Patient", "")))
    study = _mapping(document.get("Study"))
    all_series = _mapping(study.get("Series"))
    group = MetadataNode(f"Series ({len(all_series)})", NodeKind.GROUP, ("Study", "Series"))
    if all_series:
        group.expand = lambda: [_series(uid, _mapping(series)) for uid, series in sorted(all_series.items(), key=_order("SeriesNumber"))]
    children.append(_level("Study", ("Study",), _mapping(study.get("DICOM")), AttributeRef("Study", ""), [group]))
    return children


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _order(keyword: str) -> Any:
    def key(item: tuple[str, Any]) -> tuple[float, str]:
        value = _mapping(_mapping(item[1]).get("DICOM")).get(keyword)
        try:
            return float(str(value).strip()), item[0]
        except (TypeError, ValueError):
            return float("inf"), item[0]

    return key


def _level(
    label: str, path: tuple[str, ...], dicom: Mapping[str, Any], ref: AttributeRef, more: list[MetadataNode] | None = None
) -> MetadataNode:
    node = MetadataNode(label, NodeKind.LEVEL, path)
    node.expand = lambda: _attributes(path + ("DICOM",), dicom, ref) + (more or [])
    return node


def _attributes(path: tuple[str, ...], dicom: Mapping[str, Any], ref: AttributeRef | None) -> list[MetadataNode]:
    nodes = []
    for keyword in sorted(dicom, key=lambda k: (bool(_PRIVATE_TAG.fullmatch(k)), k)):
        nodes.append(_attribute(keyword, dicom[keyword], path + (keyword,), ref))
    return nodes


def _attribute(keyword: str, value: Any, path: tuple[str, ...], ref: AttributeRef | None) -> MetadataNode:
    private = bool(_PRIVATE_TAG.fullmatch(keyword))
    vr = None if private else vr_of(keyword)
    label = f"({keyword[:4]},{keyword[4:]})" if private else keyword
    attribute_ref = None
    if ref is not None:
        attribute_ref = AttributeRef(ref.level, keyword, ref.series_uid, ref.sop_uid)
    if isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
        node = MetadataNode(f"{label} ({len(value)} item{'s' if len(value) != 1 else ''})", NodeKind.ATTRIBUTE, path, None, value, vr or "SQ")
        node.ref = attribute_ref
        node.expand = lambda: [_item(path + (str(index),), index, item) for index, item in enumerate(value)]
        return node
    node = MetadataNode(label, NodeKind.ATTRIBUTE, path, readable(keyword, value, vr), value, vr)
    node.ref = attribute_ref
    return node


def _item(path: tuple[str, ...], index: int, item: Mapping[str, Any]) -> MetadataNode:
    node = MetadataNode(f"item {index + 1}", NodeKind.ITEM, path, raw=item)
    if item:
        node.expand = lambda: _attributes(path, item, None)
    return node


def _series(uid: str, series: Mapping[str, Any]) -> MetadataNode:
    dicom = _mapping(series.get("DICOM"))
    path = ("Study", "Series", uid)
    words = [str(dicom.get(k)).strip()[:VALUE_CHARS] for k in ("Modality", "SeriesDescription") if dicom.get(k)]
    number = str(dicom.get("SeriesNumber") or "").strip()[:VALUE_CHARS]
    label = " · ".join([f"Series {number}" if number else "Series", *words, uid])
    node = MetadataNode(label, NodeKind.SERIES, path, raw=series, series_uid=uid)
    instances = _mapping(series.get("Instances"))
    group = MetadataNode(f"Instances ({len(instances)})", NodeKind.GROUP, path + ("Instances",), series_uid=uid)
    if instances:
        group.expand = lambda: [
            _instance(uid, sop_uid, _mapping(instance)) for sop_uid, instance in sorted(instances.items(), key=_order("InstanceNumber"))
        ]
    node.expand = lambda: _attributes(path + ("DICOM",), dicom, AttributeRef("Series", "", uid)) + [group]
    return node


def _instance(series_uid: str, sop_uid: str, instance: Mapping[str, Any]) -> MetadataNode:
    dicom = _mapping(instance.get("DICOM"))
    path = ("Study", "Series", series_uid, "Instances", sop_uid)
    number = str(dicom.get("InstanceNumber") or "").strip()[:VALUE_CHARS]
    frames = instance.get("ImageFrames")
    frames = frames if isinstance(frames, list) else []
    label = f"Instance {number} · {sop_uid}" if number else f"Instance {sop_uid}"
    node = MetadataNode(label, NodeKind.INSTANCE, path, f"{len(frames)} frame{'s' if len(frames) != 1 else ''}", instance, series_uid=series_uid, sop_uid=sop_uid)
    node.expand = lambda: _instance_children(series_uid, sop_uid, path, instance, dicom, frames)
    return node


def _instance_children(
    series_uid: str, sop_uid: str, path: tuple[str, ...], instance: Mapping[str, Any], dicom: Mapping[str, Any], frames: list[Any]
) -> list[MetadataNode]:
    children = _attributes(path + ("DICOM",), dicom, AttributeRef("Instance", "", series_uid, sop_uid))
    for key in ("StoredTransferSyntaxUID", "ChecksumType"):
        if key in instance:
            children.append(MetadataNode(key, NodeKind.ATTRIBUTE, path + (key,), readable(key, instance[key]), instance[key]))
    if instance.get("DICOMVRs"):
        children.append(MetadataNode("DICOMVRs", NodeKind.ATTRIBUTE, path + ("DICOMVRs",), readable("DICOMVRs", instance["DICOMVRs"]), instance["DICOMVRs"]))
    group = MetadataNode(f"ImageFrames ({len(frames)})", NodeKind.GROUP, path + ("ImageFrames",), series_uid=series_uid, sop_uid=sop_uid)
    if frames:
        group.expand = lambda: [
            _frame(path + ("ImageFrames", str(index)), index, _mapping(frame), series_uid, sop_uid) for index, frame in enumerate(frames)
        ]
    children.append(group)
    return children


def _frame(path: tuple[str, ...], index: int, frame: Mapping[str, Any], series_uid: str, sop_uid: str) -> MetadataNode:
    levels = frame.get("PixelDataChecksumFromBaseToFullResolution")
    levels = [level for level in levels if isinstance(level, Mapping)] if isinstance(levels, list) else []
    full = max(levels, key=lambda level: _number(level.get("Width"))) if levels else {}
    size = f"{full.get('Width')}×{full.get('Height')}" if full else "?"
    node = MetadataNode(f"Frame {index + 1}", NodeKind.FRAME, path, f"{str(frame.get('ID', '?'))[:VALUE_CHARS]} · {size}", frame, series_uid=series_uid, sop_uid=sop_uid)
    if frame:
        node.expand = lambda: [_frame_field(path, key, value) for key, value in frame.items()]
    return node


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _frame_field(path: tuple[str, ...], key: str, value: Any) -> MetadataNode:
    if key == "PixelDataChecksumFromBaseToFullResolution" and isinstance(value, list):
        parts = (
            f"{level.get('Width')}×{level.get('Height')} CRC-32 {level.get('Checksum')}" for level in value if isinstance(level, Mapping)
        )
        return MetadataNode("Checksums", NodeKind.ATTRIBUTE, path + (key,), _joined(parts, VALUE_CHARS) or EMPTY_VALUE, value)
    if key == "FrameSizeInBytes":
        return MetadataNode(key, NodeKind.ATTRIBUTE, path + (key,), f"{str(value)[:VALUE_CHARS]} bytes", value)
    return MetadataNode(key, NodeKind.ATTRIBUTE, path + (key,), readable(key, value), value)


def find(root: MetadataNode, needle: str, limit: int | None = None, stop: Callable[[], bool] | None = None) -> list[MetadataNode]:
    """Nodes matching `needle` in tree order (the root itself excluded), at most `limit` of them; the walk
    passes through unopened branches without keeping them, and ends early once `stop()` is true."""
    needle = needle.strip()
    found: list[MetadataNode] = []
    if not needle:
        return found
    for count, node in enumerate(root.walk()):
        if stop is not None and count % 1024 == 0 and stop():
            break
        if node is not root and node.matches(needle):
            found.append(node)
            if limit is not None and len(found) >= limit:
                break
    return found


def locate(root: MetadataNode, path: tuple[str, ...]) -> MetadataNode | None:
    """The kept node at `path` (building the branches down to it), or None if there is none."""
    trail = _trail(root, path)
    return trail[-1] if trail else None


def ancestors(root: MetadataNode, target: MetadataNode) -> list[MetadataNode]:
    """The kept nodes from the root down to (not including) the node at `target.path`; empty if absent."""
    trail = _trail(root, target.path)
    return trail[:-1] if trail else []


def _trail(root: MetadataNode, path: tuple[str, ...]) -> list[MetadataNode]:
    """The kept nodes from the root to the node at `path` (each node's path extends its parent's)."""
    trail = [root]
    while trail[-1].path != path:
        step = next((child for child in trail[-1].children if path[: len(child.path)] == child.path), None)
        if step is None:
            return []
        trail.append(step)
    return trail


def json_size_over(value: Any, cap: int) -> bool:
    """True when `value` written as JSON would be longer than about `cap` characters; stops counting
    as soon as it is, so asking about a huge branch costs no more than the cap."""
    budget = cap
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            budget -= 2 + 4 * len(item)
            for key, child in item.items() if budget >= 0 else ():
                budget -= len(str(key))
                stack.append(child)
        elif isinstance(item, list):
            budget -= 2 + 2 * len(item)
            if budget >= 0:
                stack.extend(item)
        else:
            budget -= len(item) + 2 if isinstance(item, str) else 8
        if budget < 0:
            return True
    return False


def value_at(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The JSON value at a node's path (list indexes as strings)."""
    value: Any = document
    for step in path:
        value = value[int(step)] if isinstance(value, list) else value[step]
    return value
