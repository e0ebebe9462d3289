"""A metadata document as a readable tree: Patient, Study, Series, Instances, frames; search inside it.

Values are shown the way people read them: person names as "Family, Given", dates as 2024-03-15,
times as 09:30:00, binary attributes (base64 in the document) as their size, null as "(empty)". Each
node keeps its JSON path so an editor can build a patch for it (services.metadata_patch).
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.metadata_patch import AttributeRef, vr_of

_BINARY_VRS = frozenset({"OB", "OW", "OD", "OF", "OL", "OV", "UN"})
_PRIVATE_TAG = re.compile(r"[0-9A-Fa-f]{8}")
EMPTY_VALUE = "(empty)"


class NodeKind(str, enum.Enum):
    ROOT = "root"
    LEVEL = "level"
    GROUP = "group"
    SERIES = "series"
    INSTANCE = "instance"
    FRAME = "frame"
    ATTRIBUTE = "attribute"
    ITEM = "item"


@dataclass
class MetadataNode:
    """One line of the tree; `path` is where its value sits in the document."""

    label: str
    kind: NodeKind
    path: tuple[str, ...]
    value: str | None = None
    raw: Any = None
    vr: str | None = None
    children: list[MetadataNode] = field(default_factory=list)
    #: The attribute this node is, when it is one a patch can name (a DICOM attribute of a level).
    ref: AttributeRef | None = None
    series_uid: str | None = None
    sop_uid: str | None = None

    def text(self) -> str:
        """`label: value` (or the label alone for containers)."""
        return self.label if self.value is None else f"{self.label}: {self.value}"

    def walk(self) -> Iterator[MetadataNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def matches(self, needle: str) -> bool:
        """Case-insensitive match of the label, the readable value or the raw scalar."""
        needle = needle.lower()
        haystack = [self.label, self.value or ""]
        if self.raw is not None and not isinstance(self.raw, (Mapping, list)):
            haystack.append(str(self.raw))
        return any(needle in text.lower() for text in haystack)


def readable(keyword: str, value: Any, vr: str | None = None) -> str:
    """A value as a person reads it (see the module docstring)."""
    vr = vr or vr_of(keyword)
    if value is None or value == "" or value == []:
        return EMPTY_VALUE
    if isinstance(value, list):
        return ", ".join(readable(keyword, item, vr) for item in value)
    if isinstance(value, Mapping):
        if "Alphabetic" in value:
            return person_name(str(value["Alphabetic"]))
        return "{" + ", ".join(f"{k}: {readable(k, v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if vr in _BINARY_VRS and isinstance(value, str):
        return binary_size(value)
    text = str(value).strip()
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
    """A base64 attribute's decoded size: `<2 bytes>`."""
    try:
        size = len(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return f"<{len(encoded)} characters>"
    return f"<{size} byte{'s' if size != 1 else ''}>"


def build_tree(document: Mapping[str, Any]) -> MetadataNode:
    """The whole document as a tree (series by SeriesNumber, instances by InstanceNumber)."""
    root = MetadataNode(f"Image set {document.get('ImageSetID', '')}".strip(), NodeKind.ROOT, ())
    for key in ("SchemaVersion", "DatastoreID", "ImageSetID"):
        if key in document:
            root.children.append(MetadataNode(key, NodeKind.ATTRIBUTE, (key,), str(document[key]), document[key]))
    patient = document.get("Patient") or {}
    root.children.append(_level("Patient", ("Patient",), patient.get("DICOM") or {}, AttributeRef("Patient", "")))
    study = document.get("Study") or {}
    study_node = _level("Study", ("Study",), study.get("DICOM") or {}, AttributeRef("Study", ""))
    all_series = study.get("Series") or {}
    group = MetadataNode(f"Series ({len(all_series)})", NodeKind.GROUP, ("Study", "Series"))
    for uid, series in sorted(all_series.items(), key=_order("SeriesNumber")):
        group.children.append(_series(uid, series))
    study_node.children.append(group)
    root.children.append(study_node)
    return root


def _order(keyword: str) -> Any:
    def key(item: tuple[str, Mapping[str, Any]]) -> tuple[float, str]:
        value = ((item[1] or {}).get("DICOM") or {}).get(keyword)
        try:
            return float(str(value).strip()), item[0]
        except (TypeError, ValueError):
            return float("inf"), item[0]

    return key


def _level(label: str, path: tuple[str, ...], dicom: Mapping[str, Any], ref: AttributeRef) -> MetadataNode:
    node = MetadataNode(label, NodeKind.LEVEL, path)
    node.children.extend(_attributes(path + ("DICOM",), dicom, ref))
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
        for index, item in enumerate(value, start=1):
            item_node = MetadataNode(f"item {index}", NodeKind.ITEM, path + (str(index - 1),), raw=item)
            item_node.children.extend(_attributes(item_node.path, item, None))
            node.children.append(item_node)
        return node
    node = MetadataNode(label, NodeKind.ATTRIBUTE, path, readable(keyword, value, vr), value, vr)
    node.ref = attribute_ref
    return node


def _series(uid: str, series: Mapping[str, Any]) -> MetadataNode:
    dicom = series.get("DICOM") or {}
    path = ("Study", "Series", uid)
    words = [str(dicom.get(k)).strip() for k in ("Modality", "SeriesDescription") if dicom.get(k)]
    number = str(dicom.get("SeriesNumber") or "").strip()
    label = " · ".join([f"Series {number}" if number else "Series", *words, uid])
    node = MetadataNode(label, NodeKind.SERIES, path, raw=series, series_uid=uid)
    node.children.extend(_attributes(path + ("DICOM",), dicom, AttributeRef("Series", "", uid)))
    instances = series.get("Instances") or {}
    group = MetadataNode(f"Instances ({len(instances)})", NodeKind.GROUP, path + ("Instances",), series_uid=uid)
    for sop_uid, instance in sorted(instances.items(), key=_order("InstanceNumber")):
        group.children.append(_instance(uid, sop_uid, instance))
    node.children.append(group)
    return node


def _instance(series_uid: str, sop_uid: str, instance: Mapping[str, Any]) -> MetadataNode:
    dicom = instance.get("DICOM") or {}
    path = ("Study", "Series", series_uid, "Instances", sop_uid)
    number = str(dicom.get("InstanceNumber") or "").strip()
    frames = instance.get("ImageFrames") or []
    label = f"Instance {number} · {sop_uid}" if number else f"Instance {sop_uid}"
    node = MetadataNode(label, NodeKind.INSTANCE, path, f"{len(frames)} frame{'s' if len(frames) != 1 else ''}", instance, series_uid=series_uid, sop_uid=sop_uid)
    node.children.extend(_attributes(path + ("DICOM",), dicom, AttributeRef("Instance", "", series_uid, sop_uid)))
    for key in ("StoredTransferSyntaxUID", "ChecksumType"):
        if key in instance:
            node.children.append(MetadataNode(key, NodeKind.ATTRIBUTE, path + (key,), readable(key, instance[key]), instance[key]))
    if instance.get("DICOMVRs"):
        node.children.append(MetadataNode("DICOMVRs", NodeKind.ATTRIBUTE, path + ("DICOMVRs",), readable("DICOMVRs", instance["DICOMVRs"]), instance["DICOMVRs"]))
    group = MetadataNode(f"ImageFrames ({len(frames)})", NodeKind.GROUP, path + ("ImageFrames",), series_uid=series_uid, sop_uid=sop_uid)
    for index, frame in enumerate(frames):
        group.children.append(_frame(path + ("ImageFrames", str(index)), index, frame, series_uid, sop_uid))
    node.children.append(group)
    return node


def _frame(path: tuple[str, ...], index: int, frame: Mapping[str, Any], series_uid: str, sop_uid: str) -> MetadataNode:
    levels = frame.get("PixelDataChecksumFromBaseToFullResolution") or []
    full = max(levels, key=lambda level: level.get("Width") or 0) if levels else {}
    size = f"{full.get('Width')}×{full.get('Height')}" if full else "?"
    node = MetadataNode(f"Frame {index + 1}", NodeKind.FRAME, path, f"{frame.get('ID', '?')} · {size}", frame, series_uid=series_uid, sop_uid=sop_uid)
    for key, value in frame.items():
        if key == "PixelDataChecksumFromBaseToFullResolution":
            text = ", ".join(f"{level.get('Width')}×{level.get('Height')} CRC-32 {level.get('Checksum')}" for level in value or [])
            node.children.append(MetadataNode("Checksums", NodeKind.ATTRIBUTE, path + (key,), text or EMPTY_VALUE, value))
        elif key == "FrameSizeInBytes":
            node.children.append(MetadataNode(key, NodeKind.ATTRIBUTE, path + (key,), f"{value} bytes", value))
        else:
            node.children.append(MetadataNode(key, NodeKind.ATTRIBUTE, path + (key,), readable(key, value), value))
    return node


def find(root: MetadataNode, needle: str) -> list[MetadataNode]:
    """Every node matching `needle`, in tree order (the root itself excluded)."""
    if not needle.strip():
        return []
    return [node for node in root.walk() if node is not root and node.matches(needle.strip())]


def value_at(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The JSON value at a node's path (list indexes as strings)."""
    value: Any = document
    for step in path:
        value = value[int(step)] if isinstance(value, list) else value[step]
    return value


def ancestors(root: MetadataNode, target: MetadataNode) -> list[MetadataNode]:
    """The nodes from the root down to (not including) `target`; empty if it is not in the tree."""
    trail: list[MetadataNode] = []

    def visit(node: MetadataNode) -> bool:
        if node is target:
            return True
        trail.append(node)
        if any(visit(child) for child in node.children):
            return True
        trail.pop()
        return False

    return trail if visit(root) else []
