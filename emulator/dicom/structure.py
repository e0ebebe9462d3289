"""A walk over a data set's element headers, values skipped, before pydicom parses it (docs/import-limits.md).

pydicom reads every nested sequence into memory, however long, and keeps a Python object per element.
Walking the headers first bounds both: the bytes of attributes other than pixel data (which all end up
in the metadata document, so more than its quota fails the file anyway) and the number of elements.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from pydicom.datadict import dictionary_VR

from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.limits import MAX_ELEMENTS, MAX_METADATA_BYTES, METADATA_LIMIT_TEXT, mib

_UNDEFINED = 0xFFFFFFFF
_ITEM = (0xFFFE, 0xE000)
_ITEM_END = (0xFFFE, 0xE00D)
_SEQUENCE_END = (0xFFFE, 0xE0DD)
_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})
_SHORT_VRS = frozenset(
    {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"PN", b"SH", b"SL",
     b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}
)
_KNOWN_VRS = _LONG_VRS | _SHORT_VRS


class _Unreadable(Exception):
    """The headers stop making sense here; pydicom decides what the file is."""


@dataclass
class Survey:
    """What the walk counted."""

    elements: int = 0
    attribute_bytes: int = 0
    followed_to: int = 0


def survey(stream: BinaryIO, start: int, size: int, *, implicit: bool, little: bool) -> Survey:
    """Walk the data set from `start`; fail the file when its attributes are over the limits.

    A structure the walk cannot follow is left to pydicom, unless what remains unwalked is itself
    more than the metadata quota (then it could hide anything, and the file fails).
    """
    walker = _Walker(stream, size, "<" if little else ">")
    try:
        walker.position = walker.dataset(start, size, implicit, top=True)
    except _Unreadable:
        if size - walker.position > MAX_METADATA_BYTES:
            raise FileFailure(
                f"The file's data set cannot be followed past byte {walker.position} and more than "
                f"{mib(MAX_METADATA_BYTES)} remain; the file is not parsed"
            ) from None
    walker.found.followed_to = walker.position
    return walker.found


class _Walker:
    def __init__(self, stream: BinaryIO, size: int, endian: str) -> None:
        self.stream = stream
        self.size = size
        self.endian = endian
        self.position = 0
        self.found = Survey()

    def _read(self, position: int, count: int) -> bytes:
        self.position = position
        self.stream.seek(position)
        data = self.stream.read(count)
        if len(data) < count:
            raise _Unreadable()
        return data

    def _tag(self, position: int) -> tuple[int, int, int]:
        group, element, length = struct.unpack(self.endian + "HHI", self._read(position, 8))
        return group, element, length

    def _count(self, value_bytes: int) -> None:
        found = self.found
        found.elements += 1
        found.attribute_bytes += value_bytes
        if found.elements > MAX_ELEMENTS:
            raise FileFailure(
                f"The file holds more than {MAX_ELEMENTS} DICOM elements besides its pixel data, over the limit "
                "for one file; it is not parsed"
            )
        if found.attribute_bytes > MAX_METADATA_BYTES:
            raise FileFailure(
                f"The file's DICOM attributes make a metadata document of more than {mib(MAX_METADATA_BYTES)}, "
                f"over the ImageSetMetadata size quota of {METADATA_LIMIT_TEXT}; the file is not imported"
            )

    def _explicit_at(self, position: int, end: int, implicit: bool) -> bool:
        """pydicom's own rule: the first element of each data set shows whether VRs are explicit."""
        if position + 6 > end:
            return not implicit
        vr = self._read(position + 4, 2)
        return vr in _KNOWN_VRS

    def dataset(self, position: int, end: int, implicit: bool, *, top: bool = False) -> int:
        """Walk elements from `position` to `end` or an item delimiter; the position after them."""
        explicit = self._explicit_at(position, end, implicit)
        while position + 8 <= end:
            group, element, length = self._tag(position)
            if (group, element) == _ITEM_END:
                return position + 8
            if (group, element) in (_ITEM, _SEQUENCE_END):
                raise _Unreadable()
            tag = group << 16 | element
            vr = b""
            value = position + 8
            if explicit:
                vr = self._read(position + 4, 2)
                if vr not in _KNOWN_VRS:
                    raise _Unreadable()
                if vr in _LONG_VRS:
                    (length,) = struct.unpack(self.endian + "I", self._read(position + 8, 4))
                    value = position + 12
                else:
                    (length,) = struct.unpack(self.endian + "H", self._read(position + 6, 2))
            if top and tag in _PIXEL_TAGS:
                position = self._skip_pixels(value, length, end)
                continue
            if length == _UNDEFINED:
                self._count(0)
                position = self.sequence(value, end, implicit or not explicit, defined=False)
                continue
            if value + length > end:
                raise _Unreadable()
            if vr == b"SQ" or (not explicit and _is_sequence(tag)):
                self._count(0)
                self.sequence(value, value + length, implicit or not explicit, defined=True)
            else:
                self._count(length)
            position = value + length
        return position

    def sequence(self, position: int, end: int, implicit: bool, *, defined: bool) -> int:
        """Walk the items of a sequence; the position after it (after its delimiter when undefined)."""
        while position + 8 <= end:
            group, element, length = self._tag(position)
            if (group, element) == _SEQUENCE_END:
                return position + 8
            if (group, element) != _ITEM:
                raise _Unreadable()
            if length == _UNDEFINED:
                position = self.dataset(position + 8, end, implicit)
            else:
                if position + 8 + length > end:
                    raise _Unreadable()
                self.dataset(position + 8, position + 8 + length, implicit)
                position += 8 + length
        if not defined:
            raise _Unreadable()
        return position

    def _skip_pixels(self, value: int, length: int, end: int) -> int:
        if length != _UNDEFINED:
            return value + length
        position = value
        while position + 8 <= end:
            group, element, item_length = self._tag(position)
            if (group, element) == _SEQUENCE_END:
                return position + 8
            if (group, element) != _ITEM or item_length == _UNDEFINED:
                raise _Unreadable()
            position += 8 + item_length
        raise _Unreadable()


def _is_sequence(tag: int) -> bool:
    try:
        return dictionary_VR(tag) == "SQ"
    except KeyError:
        return False
