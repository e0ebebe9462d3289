"""UpdateImageSetMetadata patches (docs/service.md#metadata-patches), built from a place in the document.

A patch mirrors the metadata document: `{"SchemaVersion": "1.1", "Patient": {"DICOM": {...}}}` to set a
patient attribute, the same shape with the current value to remove it, and an empty object under an
instance (or series) UID to remove that instance (or series). The update constraints
(docs/service.md#update-constraints) that can be judged from the document alone are checked here, so
the editor names them before anything is sent; the service still has the last word (VR details,
cross-module rules).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from pydicom.datadict import dictionary_VM, dictionary_VR, tag_for_keyword

from ahi.services.validation import FieldProblem

SCHEMA_VERSION = "1.1"
#: Quota "Maximum size of an UpdateImageSetMetadata payload" (docs/service.md#quotas).
MAX_PATCH_BYTES = 10 * 1024
LEVELS: tuple[str, ...] = ("Patient", "Study", "Series", "Instance")
#: docs/service.md#update-constraints rule 2: written by the service, never by a patch.
SERVICE_GENERATED = frozenset(
    {"SchemaVersion", "DatastoreID", "ImageSetID", "PixelData", "Checksum", "Width", "Height",
     "MinPixelValue", "MaxPixelValue", "FrameSizeInBytes"}
)
#: docs/service.md#update-constraints rule 3: the identity of the data.
PROTECTED = frozenset({"PixelData", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "StudyID"})
_PRIVATE_TAG = re.compile(r"[0-9A-Fa-f]{8}")
_NUMERIC_VRS = frozenset({"US", "UL", "SS", "SL", "FL", "FD", "UV", "SV"})
_VR_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "DA": (re.compile(r"\d{8}"), "a date YYYYMMDD"),
    "TM": (re.compile(r"\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?"), "a time HHMMSS(.ffffff)"),
    "IS": (re.compile(r"\s*[+-]?\d{1,12}\s*"), "an integer string"),
    "DS": (re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*"), "a decimal string"),
    "CS": (re.compile(r"[A-Z0-9 _]{0,16}"), "a code string: upper-case letters, digits, space, _ (16 at most)"),
}


@dataclass(frozen=True)
class AttributeRef:
    """Where an attribute lives: its level, the series/instance UIDs that level needs, and its keyword."""

    level: str
    keyword: str
    series_uid: str | None = None
    sop_uid: str | None = None

    def describe(self) -> str:
        where = {"Series": f" of series {self.series_uid}", "Instance": f" of instance {self.sop_uid}"}
        return f"{self.level} {self.keyword}{where.get(self.level, '')}"


@dataclass(frozen=True)
class MetadataUpdate:
    """The two patch documents of one UpdateImageSetMetadata call (either may be absent)."""

    updatable: Mapping[str, Any] | None = None
    removable: Mapping[str, Any] | None = None

    def payload(self) -> dict[str, Any]:
        """`updateImageSetMetadataUpdates` for boto3 (blobs as UTF-8 JSON bytes)."""
        updates: dict[str, bytes] = {}
        if self.updatable is not None:
            updates["updatableAttributes"] = _encode(self.updatable)
        if self.removable is not None:
            updates["removableAttributes"] = _encode(self.removable)
        return {"DICOMUpdates": updates}

    def preview(self) -> str:
        """The patch as the user should read it before sending."""
        shown = {}
        if self.updatable is not None:
            shown["updatableAttributes"] = self.updatable
        if self.removable is not None:
            shown["removableAttributes"] = self.removable
        return json.dumps(shown, indent=2, ensure_ascii=False)

    def size(self) -> int:
        return sum(len(blob) for blob in self.payload()["DICOMUpdates"].values())

    def problems(self) -> list[FieldProblem]:
        if self.updatable is None and self.removable is None:
            return [FieldProblem("patch", "nothing to update or remove")]
        if self.size() > MAX_PATCH_BYTES:
            return [FieldProblem("patch", f"is {self.size()} bytes; the service takes at most {MAX_PATCH_BYTES}")]
        return []


def _encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def level_document(ref: AttributeRef, dicom: Mapping[str, Any]) -> dict[str, Any]:
    """A patch document holding `dicom` at the level `ref` names."""
    if ref.level == "Patient":
        body: dict[str, Any] = {"Patient": {"DICOM": dict(dicom)}}
    elif ref.level == "Study":
        body = {"Study": {"DICOM": dict(dicom)}}
    elif ref.level == "Series":
        body = {"Study": {"Series": {ref.series_uid: {"DICOM": dict(dicom)}}}}
    elif ref.level == "Instance":
        body = {"Study": {"Series": {ref.series_uid: {"Instances": {ref.sop_uid: {"DICOM": dict(dicom)}}}}}}
    else:
        raise ValueError(f"unknown level {ref.level!r}: one of {', '.join(LEVELS)}")
    return {"SchemaVersion": SCHEMA_VERSION, **body}


def set_attribute(ref: AttributeRef, value: Any) -> MetadataUpdate:
    """Insert or update one attribute."""
    return MetadataUpdate(updatable=level_document(ref, {ref.keyword: value}))


def remove_attribute(ref: AttributeRef, current_value: Any) -> MetadataUpdate:
    """Remove one attribute (the service needs the key with its current value)."""
    return MetadataUpdate(removable=level_document(ref, {ref.keyword: current_value}))


def remove_instance(series_uid: str, sop_uid: str) -> MetadataUpdate:
    """Remove a whole SOP instance: an empty object under its UID."""
    return MetadataUpdate(
        removable={"SchemaVersion": SCHEMA_VERSION, "Study": {"Series": {series_uid: {"Instances": {sop_uid: {}}}}}}
    )


def remove_series(series_uid: str) -> MetadataUpdate:
    """Remove a whole series: an empty object under its UID (the guide shows no example; by analogy)."""
    return MetadataUpdate(removable={"SchemaVersion": SCHEMA_VERSION, "Study": {"Series": {series_uid: {}}}})


def current_value(document: Mapping[str, Any], ref: AttributeRef) -> tuple[bool, Any]:
    """(present, value) of the attribute `ref` names in a metadata document."""
    dicom = level_dicom(document, ref)
    if dicom is None or ref.keyword not in dicom:
        return False, None
    return True, dicom[ref.keyword]


def level_dicom(document: Mapping[str, Any], ref: AttributeRef) -> Mapping[str, Any] | None:
    """The DICOM block of the level `ref` names; None when that series or instance is not in the document."""
    study = document.get("Study") or {}
    if ref.level == "Patient":
        return (document.get("Patient") or {}).get("DICOM") or {}
    if ref.level == "Study":
        return study.get("DICOM") or {}
    series = (study.get("Series") or {}).get(ref.series_uid or "")
    if series is None:
        return None
    if ref.level == "Series":
        return series.get("DICOM") or {}
    instance = (series.get("Instances") or {}).get(ref.sop_uid or "")
    return None if instance is None else instance.get("DICOM") or {}


def vr_of(keyword: str) -> str | None:
    """The attribute's VR from the DICOM dictionary, or None for unknown keywords and private tags."""
    tag = tag_for_keyword(keyword)
    return None if tag is None else str(dictionary_VR(tag))


def typed_value(keyword: str, text: str, existing: Any = None) -> Any:
    """The JSON value to send for typed `text`: numbers for binary-number VRs (as the document keeps them)."""
    vr = vr_of(keyword)
    if (vr in _NUMERIC_VRS or isinstance(existing, (int, float))) and not isinstance(existing, bool):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and vr not in ("FL", "FD") else number
    return text


def update_problems(document: Mapping[str, Any], ref: AttributeRef, value: Any) -> list[FieldProblem]:
    """The update constraints an update of `ref` to `value` breaks, judged from the document and the dictionary."""
    problems = _reference_problems(document, ref)
    if problems:
        return problems
    present, existing = current_value(document, ref)
    vr = vr_of(ref.keyword)
    if vr == "SQ" or (present and isinstance(existing, list) and existing and isinstance(existing[0], Mapping)):
        problems.append(FieldProblem("attribute", f"{ref.keyword} is a sequence (SQ); sequences cannot be updated"))
    elif (present and isinstance(existing, list)) or (vr is not None and _multi_valued(ref.keyword)):
        problems.append(FieldProblem("attribute", f"{ref.keyword} is multi-valued; multi-valued attributes cannot be updated"))
    if isinstance(value, str) and vr in _VR_PATTERNS and value:
        pattern, meaning = _VR_PATTERNS[vr]
        if not pattern.fullmatch(value):
            problems.append(FieldProblem("value", f"{ref.keyword} has VR {vr}: the value must be {meaning}"))
    if vr in _NUMERIC_VRS and not isinstance(value, (int, float)):
        problems.append(FieldProblem("value", f"{ref.keyword} has VR {vr}: the value must be a number"))
    if present and existing == value:
        problems.append(FieldProblem("value", "is the value it already has"))
    return problems


def removal_problems(document: Mapping[str, Any], ref: AttributeRef) -> list[FieldProblem]:
    """The rules removing `ref` breaks (it must exist; private, generated and protected ones stay)."""
    problems = _reference_problems(document, ref)
    if not problems and not current_value(document, ref)[0]:
        problems.append(FieldProblem("attribute", f"{ref.describe()} is not in this version's metadata"))
    return problems


def _reference_problems(document: Mapping[str, Any], ref: AttributeRef) -> list[FieldProblem]:
    keyword = ref.keyword.strip()
    if not keyword:
        return [FieldProblem("attribute", "give the attribute's DICOM keyword, e.g. PatientName")]
    if ref.level not in LEVELS:
        return [FieldProblem("level", f"must be one of {', '.join(LEVELS)}")]
    if level_dicom(document, ref) is None:
        missing = ref.series_uid if ref.level == "Series" else ref.sop_uid
        return [FieldProblem("level", f"{ref.level} {missing} is not in this image set (no update for a module that does not exist)")]
    if _PRIVATE_TAG.fullmatch(keyword) or keyword == "PrivateCreatorID":
        return [FieldProblem("attribute", f"{keyword} is a private attribute; private attributes cannot be changed")]
    if keyword in SERVICE_GENERATED:
        return [FieldProblem("attribute", f"{keyword} is generated by the service and cannot be changed")]
    if keyword in PROTECTED:
        return [FieldProblem("attribute", f"{keyword} identifies the data and is protected")]
    if tag_for_keyword(keyword) is None:
        return [FieldProblem("attribute", f"{keyword} is not a DICOM keyword (names are case-sensitive, e.g. PatientName)")]
    return []


def _multi_valued(keyword: str) -> bool:
    tag = tag_for_keyword(keyword)
    return tag is not None and str(dictionary_VM(tag)) not in ("1", "")
