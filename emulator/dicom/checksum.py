"""The image frame resolution checksum (IFRC) clients verify, by the rule of docs/clients.md#the-frame-checksum."""

from __future__ import annotations

import zlib

import numpy as np


def frame_checksum(pixels: np.ndarray) -> int:
    """CRC-32 (zlib) of the decoded frame: row-major, pixel-interleaved, little-endian samples, unsigned result.

    The samples keep the width and signedness of the stored component (1, 2 or 4 bytes), which is
    what `zlib.crc32(numpy_array)` over pylibjpeg-openjpeg's output and openjphjs' buffer hash.
    """
    little = pixels.astype(pixels.dtype.newbyteorder("<"), copy=False)
    return zlib.crc32(np.ascontiguousarray(little)) & 0xFFFFFFFF


def checksum_entries(pixels: np.ndarray, checksum: int | None = None) -> list[dict[str, int]]:
    """`PixelDataChecksumFromBaseToFullResolution` for one frame.

    The current service lists only the full-resolution entry (the real document in
    docs/clients.md#a-real-metadata-document has exactly one); older pages listed every level, but no
    public code shows how the lower ones were computed and clients read only the last / widest entry,
    so one entry is both faithful and sufficient.
    """
    rows, cols = pixels.shape[:2]
    full = frame_checksum(pixels) if checksum is None else checksum
    return [{"Width": int(cols), "Height": int(rows), "Checksum": full}]
