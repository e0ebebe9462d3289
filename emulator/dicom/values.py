"""DICOM elements as the metadata document's JSON values (docs/service.md#the-metadata-document,
docs/clients.md#a-real-metadata-document).

Keys are PS3.6 keywords; private and unnamed elements use the 8-hex tag ("00191010"), private
creators included (the guide's single "PrivateCreatorID" key could not hold several creators).
Values: numbers for binary numeric VRs, strings for text VRs (IS/DS keep their raw text, padding
included, as the real fixture shows "1 "), arrays for multiple values, null for empty, base64 for
binary VRs (little-endian), arrays of objects for sequences, null for pixel data.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_INT_VRS = frozenset({"US", "UL", "SS", "SL", "UV", "SV"})
_FLOAT_VRS = frozenset({"FL", "FD"})
_RAW_TEXT_VRS = frozenset({"IS", "DS"})
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_WORD_WIDTH = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def key_for(tag: BaseTag) -> str:
    """The document key of an element: its keyword when it names exactly this tag, else 8-hex."""
    if not tag.is_private:
        keyword = keyword_for_tag(tag)
        if keyword and tag_for_keyword(keyword) == tag:
            return keyword
    return f"{tag:08X}"


def encode_dataset(
    dataset: Dataset, vrs: dict[str, str] | None = None, *, little_endian: bool = True
) -> dict[str, Any]:
    """Every element of a dataset (or sequence item) as key -> JSON value, in tag order.

    When `vrs` is given it receives the VR of each element a reader could not get from the data
    dictionary (private, ambiguous or differing from it): the instance's `DICOMVRs` map.
    """
    encoded: dict[str, Any] = {}
    for tag in sorted(dataset.keys()):
        if tag.element == 0 and tag.group != 0x0002:
            continue  # retired group lengths say nothing about the data
        key = key_for(tag)
        if tag in _PIXEL_TAGS:
            encoded[key] = None  # frames hold the pixels; resolving the VR would read the deferred value
            continue
        element = dataset.get_item(tag)
        vr = _vr_of(dataset, tag, element)
        encoded[key] = _encode_value(dataset, tag, element, vr, little_endian)
        if vrs is not None and _needs_vr(tag, vr):
            vrs[key] = vr
    return encoded


def _vr_of(dataset: Dataset, tag: BaseTag, element: DataElement | RawDataElement) -> str:
    vr = element.VR
    if vr is None or " or " in vr or isinstance(element, RawDataElement) and vr in ("UN", None):
        vr = dataset[tag].VR  # pydicom resolves ambiguous and implicit VRs on conversion
    return str(vr or "UN")


def _needs_vr(tag: BaseTag, vr: str) -> bool:
    if tag.is_private:
        return True
    try:
        return dictionary_VR(tag) != vr
    except KeyError:
        return True


def _encode_value(
    dataset: Dataset, tag: BaseTag, element: DataElement | RawDataElement, vr: str, little_endian: bool
) -> Any:
    if tag in _PIXEL_TAGS:
        return None
    if vr in _RAW_TEXT_VRS and isinstance(element, RawDataElement):
        return _split_text(bytes(element.value or b"").decode("ascii", "replace").rstrip("\x00"))
    value = dataset[tag].value
    if vr == "SQ":
        return [encode_dataset(item, little_endian=little_endian) for item in value or []]
    if vr in _BINARY_VRS:
        return _base64(value, vr, little_endian)
    if value is None or value == "" or (isinstance(value, (list, MultiValue)) and len(value) == 0):
        return None
    if isinstance(value, (list, MultiValue)):
        return [_scalar(item, vr) for item in value]
    return _scalar(value, vr)


def _split_text(text: str) -> str | list[str] | None:
    if text.strip() == "":
        return None
    parts = text.split("\\")
    return parts[0] if len(parts) == 1 else parts


def _scalar(value: Any, vr: str) -> Any:
    if vr in _INT_VRS:
        return int(value)
    if vr in _FLOAT_VRS:
        number = float(value)
        return number if math.isfinite(number) else None
    if vr == "AT":
        return f"{int(value):08X}"
    if vr in _RAW_TEXT_VRS:
        return getattr(value, "original_string", None) or str(value)
    return str(value)


def _base64(value: Any, vr: str, little_endian: bool) -> str | None:
    if not value:
        return None
    data = bytes(value)
    width = _WORD_WIDTH.get(vr)
    if not little_endian and width:
        data = b"".join(data[i : i + width][::-1] for i in range(0, len(data), width))
    return base64.b64encode(data).decode("ascii")
