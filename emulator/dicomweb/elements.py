"""The metadata document's attributes of one instance as DICOM elements: tag, VR and stored value (docs/dicomweb.md#wado-rs).

A document keys elements by keyword or 8-hex tag and records, per instance, the VR of each element
a reader could not take from the data dictionary (`DICOMVRs`). Everything else comes from the
dictionary; its ambiguous VRs are settled as PS3.5 says (PixelRepresentation decides US or SS,
BitsAllocated OB or OW). Elements inside sequence items have no recorded VR: a private or unknown
one there is UN (our choice; it is what an implicit VR reader would see).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

FILE_META_GROUP = 0x0002
PIXEL_DATA = 0x7FE00010
#: Binary VRs: the document holds their bytes as base64 (little endian).
BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})


@dataclass(frozen=True)
class Element:
    """One element of the document: its tag, settled VR and value as the document stores it."""

    tag: int
    vr: str
    value: Any

    @property
    def hex(self) -> str:
        return f"{self.tag:08X}"


def tag_of(key: str) -> int | None:
    """The tag a document key names: a keyword, or 8 hex digits; None for anything else."""
    # pydicom (and numpy with it) load on first use, not at every endpoint start (docs/startup.md).
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(key)
    if tag is not None:
        return int(tag)
    if len(key) == 8:
        try:
            return int(key, 16)
        except ValueError:
            return None
    return None


def elements(
    attributes: Mapping[str, Any], vrs: Mapping[str, str], context: Mapping[str, Any] | None = None
) -> Iterator[Element]:
    """The elements of a dataset (or sequence item) in tag order; `context` settles ambiguous VRs (the instance)."""
    settle = attributes if context is None else context
    tagged = sorted((tag, key) for key in attributes if (tag := tag_of(key)) is not None)
    for tag, key in tagged:
        vr = _vr(tag, key, vrs, settle)
        value = attributes[key]
        if vr == "UN" and key not in vrs:
            value = _as_unknown(value)
        yield Element(tag, vr, value)


def _as_unknown(value: Any) -> str | None:
    """An element of unknown VR as base64 bytes: its value already is when it was binary, else its text's bytes.

    The document writes binary values as base64 and text as text, and keeps no VR for elements inside
    sequence items: a value that is not strict base64 of whole bytes is taken as text (our choice).
    """
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, str) and len(value) % 4 == 0:
        try:
            base64.b64decode(value, validate=True)
            return value
        except binascii.Error:
            pass
    values = value if isinstance(value, list) else [value]
    text = "\\".join("" if item is None else str(item) for item in values)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _vr(tag: int, key: str, vrs: Mapping[str, str], context: Mapping[str, Any]) -> str:
    recorded = vrs.get(key)
    if recorded:
        return recorded
    group, number = tag >> 16, tag & 0xFFFF
    if group % 2 == 1:
        return "LO" if 0x0010 <= number <= 0x00FF else "UN"  # private creator, else unknown private
    from pydicom.datadict import dictionary_VR

    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return "UN"
    return _settle(vr, tag, context) if " or " in vr else vr


def _settle(vr: str, tag: int, context: Mapping[str, Any]) -> str:
    """PS3.5's resolution of the dictionary's ambiguous VRs (as pydicom's writer applies it)."""
    if tag == PIXEL_DATA or vr == "OB or OW":
        return "OW" if int(context.get("BitsAllocated") or 8) > 8 else "OB"
    if "SS" in vr:
        return "SS" if context.get("PixelRepresentation") == 1 else "US"
    if vr == "US or OW":
        return "US"
    return vr.split(" or ")[0]
