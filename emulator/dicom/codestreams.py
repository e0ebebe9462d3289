"""What a compressed frame's own header claims, read before any decoder sees it (docs/import-limits.md).

A decoder sizes its output from the codestream, not from Rows and Columns: a 1.2 KB JPEG whose SOF
claims 65535 x 65535 makes it allocate gigabytes. So each frame's header (JPEG and JPEG-LS SOF,
JPEG 2000 and HTJ2K SIZ, the RLE segment table) must fit the pixel module the file declares.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.htj2k import codestream_of
from ahi.emulator.dicom.limits import HEADER_SCAN_BYTES, bytes_per_sample, mib

_JPEG_FAMILY = frozenset(
    {
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81",
    }
)
_J2K_FAMILY = frozenset(
    {
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203",
    }
)
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
#: SOF0-SOF15 without DHT (C4), JPG (C8) and DAC (CC); F7 is JPEG-LS's SOF55.
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7})
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
#: ISO/IEC 15444-1 A.4.2: at most 65535 tile-parts, so at most 65535 tiles.
_MAX_TILES = 65535


@dataclass(frozen=True)
class FrameShape:
    """What the pixel module says one frame is."""

    rows: int
    columns: int
    samples: int
    bits_allocated: int


def starts_codestream(fragment_head: bytes, transfer_syntax: str) -> bool:
    """Whether a fragment begins a frame's codestream (later fragments of a frame carry no header)."""
    if transfer_syntax in _JPEG_FAMILY:
        return fragment_head.startswith(b"\xff\xd8")
    if transfer_syntax in _J2K_FAMILY:
        return fragment_head.startswith((b"\xff\x4f\xff\x51", _JP2_SIGNATURE))
    return transfer_syntax == RLE_LOSSLESS


def check_frame_header(head: bytes, length: int, transfer_syntax: str, shape: FrameShape, number: int) -> None:
    """Raise a FileFailure when frame `number`'s header claims more than `shape` (head: its first bytes)."""
    if transfer_syntax in _JPEG_FAMILY:
        _check_jpeg(head, length, shape, number)
    elif transfer_syntax in _J2K_FAMILY:
        _check_j2k(head, length, shape, number)
    elif transfer_syntax == RLE_LOSSLESS:
        _check_rle(head, length, shape, number)


def _too_large(kind: str, number: int, rows: int, columns: int, components: int, shape: FrameShape) -> FileFailure:
    return FileFailure(
        f"The {kind} header of frame {number} claims {rows} x {columns} (rows x columns) with {components} "
        f"component(s), more than the file's Rows x Columns of {shape.rows} x {shape.columns} with "
        f"SamplesPerPixel {shape.samples}; the frame is not decoded"
    )


def _not_found(kind: str, number: int, head: bytes, length: int) -> FileFailure:
    where = f"the first {mib(len(head))}" if len(head) < length else "it"
    return FileFailure(f"Frame {number} has no {kind} frame header in {where}; the frame is not decoded")


def _check_jpeg(head: bytes, length: int, shape: FrameShape, number: int) -> None:
    """Walk the marker segments from SOI to the first SOF (JPEG and JPEG-LS share the syntax)."""
    position = 2
    while position + 4 <= len(head):
        if head[position] != 0xFF:
            raise FileFailure(f"Frame {number} is not a valid JPEG stream: no marker at byte {position}")
        marker = head[position + 1]
        if marker == 0xFF:
            position += 1  # fill byte
            continue
        if marker in _STANDALONE_MARKERS:
            position += 2
            continue
        if marker in (0xD9, 0xDA):
            break  # EOI or start of scan before any frame header
        (segment,) = struct.unpack_from(">H", head, position + 2)
        if marker in _SOF_MARKERS:
            if position + 10 > len(head):
                break
            precision, rows, columns, components = struct.unpack_from(">BHHB", head, position + 4)
            if rows == 0:
                raise FileFailure(
                    f"The JPEG header of frame {number} defers its height to a DNL marker, which is not supported"
                )
            if rows > shape.rows or columns > shape.columns or components > shape.samples:
                raise _too_large("JPEG", number, rows, columns, components, shape)
            if precision > 16:
                raise FileFailure(f"The JPEG header of frame {number} claims {precision}-bit samples; 16 is the most")
            return
        position += 2 + segment
    raise _not_found("JPEG", number, head, length)


def _check_j2k(head: bytes, length: int, shape: FrameShape, number: int) -> None:
    """SIZ follows SOC directly (ISO/IEC 15444-1 A.5.1); a JP2/JPH file holds the codestream in `jp2c`."""
    try:
        stream = codestream_of(head)
    except (ValueError, struct.error):
        raise _not_found("JPEG 2000", number, head, length) from None
    if not stream.startswith(b"\xff\x4f\xff\x51") or len(stream) < 4 + 40:
        raise _not_found("JPEG 2000", number, head, length)
    (x_size, y_size, x_offset, y_offset, tile_width, tile_height, tile_x, tile_y, components) = struct.unpack_from(
        ">IIIIIIIIH", stream, 8
    )
    rows, columns = y_size - y_offset, x_size - x_offset
    if rows < 1 or columns < 1 or tile_width < 1 or tile_height < 1 or tile_x > x_offset or tile_y > y_offset:
        raise FileFailure(f"The JPEG 2000 header (SIZ) of frame {number} describes no valid image grid")
    if rows > shape.rows or columns > shape.columns or components > shape.samples:
        raise _too_large("JPEG 2000", number, rows, columns, components, shape)
    tiles = math.ceil((x_size - tile_x) / tile_width) * math.ceil((y_size - tile_y) / tile_height)
    if tiles > _MAX_TILES:
        raise FileFailure(
            f"The JPEG 2000 header (SIZ) of frame {number} claims {tiles} tiles; a codestream holds at most "
            f"{_MAX_TILES}"
        )
    start = 4 + 40
    for index in range(components):
        if start + 3 * index + 3 > len(stream):
            raise _not_found("JPEG 2000", number, head, length)
        depth, x_step, y_step = struct.unpack_from(">BBB", stream, start + 3 * index)
        if x_step < 1 or y_step < 1 or (depth & 0x7F) + 1 > 38:
            raise FileFailure(f"The JPEG 2000 header (SIZ) of frame {number} has an invalid component {index}")


def _check_rle(head: bytes, length: int, shape: FrameShape, number: int) -> None:
    """PS3.5 G.5: a 64-byte header of segment count and offsets; one segment per sample byte."""
    if len(head) < 64:
        raise FileFailure(f"The RLE header of frame {number} is shorter than 64 bytes")
    count, *offsets = struct.unpack_from("<16I", head, 0)
    expected = shape.samples * bytes_per_sample(shape.bits_allocated)
    if count != expected or count > 15:
        raise FileFailure(
            f"The RLE header of frame {number} lists {count} segments; SamplesPerPixel {shape.samples} and "
            f"BitsAllocated {shape.bits_allocated} need {expected}"
        )
    used = offsets[:count]
    if used[0] != 64 or any(b <= a for a, b in zip(used, used[1:])) or used[-1] >= length:
        raise FileFailure(f"The RLE header of frame {number} has segment offsets outside its fragment")


def scan_size(length: int) -> int:
    """How many bytes of a fragment of `length` to read for its header."""
    return min(length, HEADER_SCAN_BYTES)
