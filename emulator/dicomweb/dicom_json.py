"""The DICOM JSON Model (PS3.18 F.2) of metadata document attributes, shared by WADO-RS and QIDO-RS (docs/dicomweb.md#metadata).

Each element is `{"vr": ..., "Value": [...]}` (no Value when empty); person names are objects with
Alphabetic, Ideographic and Phonetic groups; IS and DS are JSON numbers (a value that is not a number
stays its text); binary values are InlineBinary, or a BulkDataURI when the caller gives a way to make
one for values over its threshold. File meta elements (group 0002) and PixelData are not part of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ahi.emulator.dicomweb.elements import BINARY_VRS, FILE_META_GROUP, PIXEL_DATA, Element, elements

_NUMBER_TEXT_VRS = frozenset({"IS", "DS"})
_PERSON_NAME_GROUPS = ("Alphabetic", "Ideographic", "Phonetic")

#: (tag path, base64 value) -> the attribute to answer instead of InlineBinary (a BulkDataURI), or None.
BulkHandler = Callable[[str, str], "dict[str, Any] | None"]


def attribute(vr: str, value: Any) -> dict[str, Any]:
    """One element in the JSON model from a document value (a scalar, a list, or None for empty)."""
    out: dict[str, Any] = {"vr": vr}
    if value is None or value == [] or value == "":
        return out
    if vr in BINARY_VRS:
        out["InlineBinary"] = value if isinstance(value, str) else ""
        return out
    values = value if isinstance(value, list) else [value]
    out["Value"] = [_scalar(vr, item) for item in values]
    return out


def dataset(
    block: Mapping[str, Any],
    vrs: Mapping[str, str],
    *,
    context: Mapping[str, Any] | None = None,
    bulk: BulkHandler | None = None,
    path: str = "",
) -> dict[str, Any]:
    """8-hex tag -> element of a document block (keyword keys, `DICOMVRs`); `bulk` may replace binary values."""
    settle = block if context is None else context
    encoded: dict[str, Any] = {}
    for element in elements(block, vrs, settle):
        if element.tag >> 16 == FILE_META_GROUP or element.tag == PIXEL_DATA:
            continue
        encoded[element.hex] = _element(element, settle, bulk, f"{path}{element.hex}")
    return encoded


def _element(element: Element, context: Mapping[str, Any], bulk: BulkHandler | None, tag_path: str) -> dict[str, Any]:
    vr, value = element.vr, element.value
    if vr == "SQ" and value:
        items = value if isinstance(value, list) else [value]
        nested = [
            dataset(item, {}, context=context, bulk=bulk, path=f"{tag_path}/{index}/") for index, item in enumerate(items)
        ]
        return {"vr": vr, "Value": nested}
    if vr in BINARY_VRS and bulk is not None and isinstance(value, str) and value:
        replaced = bulk(tag_path, value)
        if replaced is not None:
            return {"vr": vr, **replaced}
    return attribute(vr, value)


def _scalar(vr: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if vr == "PN":
        groups = str(value).split("=")
        return {name: group for name, group in zip(_PERSON_NAME_GROUPS, groups) if group}
    if vr in _NUMBER_TEXT_VRS and isinstance(value, str):
        return _number(value.strip(), integer=vr == "IS")
    return value


def _number(text: str, *, integer: bool) -> Any:
    """IS and DS as JSON numbers; a value that is not a number stays the text it is."""
    try:
        if integer or not any(mark in text for mark in ".eE"):
            return int(text)
        number = float(text)
    except ValueError:
        return text or None
    return number if number == number and abs(number) != float("inf") else text
