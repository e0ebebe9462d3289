"""Walking encapsulated pixel data in the file itself: item headers are read, fragment bodies skipped.

PS3.5 A.4: after the (0x7FE0,0x0010) header come items (FFFE,E000) with a defined length, the first
the Basic Offset Table, then the fragments, ended by a sequence delimiter (FFFE,E0DD). Reading only
the 8-byte item headers finds every fragment of a multi-gigabyte value without holding any of it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from ahi.emulator.dicom.failures import FileFailure

_ITEM = 0xE000FFFE
_SEQUENCE_DELIMITER = 0xE0DDFFFE


def fragments(stream: BinaryIO, value_offset: int, size: int) -> Iterator[tuple[int, int]]:
    """(offset of the fragment's bytes, its length) for each fragment after the Basic Offset Table."""
    position = value_offset
    first = True
    while True:
        stream.seek(position)
        header = stream.read(8)
        if len(header) < 8:
            raise FileFailure(
                "The file is truncated: its encapsulated pixel data ends without a sequence delimiter"
            )
        tag, length = struct.unpack("<II", header)
        if tag == _SEQUENCE_DELIMITER:
            return
        if tag != _ITEM or length == 0xFFFFFFFF:
            raise FileFailure(
                f"The encapsulated pixel data holds an invalid item header at byte {position}; "
                "PS3.5 A.4 allows only items of defined length and a sequence delimiter"
            )
        start = position + 8
        if start + length > size:
            raise FileFailure(
                f"The file is truncated: a pixel data fragment at byte {start} declares {length} bytes but only "
                f"{size - start} are present"
            )
        if not first:
            yield start, length
        first = False
        position = start + length
