"""Each codestream and pixel-data rule on its own, in process: the failure names it and nothing is decoded.

The job-level bomb test covers the large claims end to end; these are the other shapes a header can
lie in (tile grids, DNL heights, RLE segment tables, oversized fragments, short native data), and the
file size quota, which fails an object from its listed size alone.
"""

from __future__ import annotations

import struct
import threading
import time

import imagecodecs
import numpy as np
import pytest
from import_bombs import JPEG_2000_LOSSLESS, JPEG_BASELINE, RLE_LOSSLESS, encapsulated_file, good_instance, saved_file

from ahi.emulator.dicom.instance import process_file
from ahi.emulator.imports.runner import JobRunner
from ahi.emulator.imports.s3io import InputObject


def _siz(frame: bytes, *fields: int) -> bytes:
    """Overwrite Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz of a bare JPEG 2000 codestream."""
    siz = frame.index(b"\xff\x51")
    packed = struct.pack(f">{len(fields)}I", *fields)
    return frame[: siz + 6] + packed + frame[siz + 6 + len(packed) :]


def j2k_tile_grid() -> bytes:
    """256 x 256 in 1 x 1 tiles: 65,536 tiles, one more than a codestream may hold."""
    ds = good_instance("tiles")
    ds.Rows = ds.Columns = 256
    frame = imagecodecs.jpeg2k_encode(np.zeros((256, 256), np.int16), level=0, codecformat="j2k")
    return encapsulated_file(ds, JPEG_2000_LOSSLESS, _siz(frame, 256, 256, 0, 0, 1, 1))


def jpeg_dnl() -> bytes:
    """A JPEG whose SOF leaves the height to a DNL marker (height 0)."""
    ds = good_instance("dnl")
    frame = imagecodecs.jpeg8_encode(np.full((64, 64), 7, np.uint8), level=90)
    sof = frame.index(b"\xff\xc0")
    patched = frame[: sof + 5] + struct.pack(">H", 0) + frame[sof + 7 :]
    return encapsulated_file(ds, JPEG_BASELINE, patched, BitsAllocated=8, BitsStored=8, HighBit=7, PixelRepresentation=0)


def rle_segments() -> bytes:
    """A 16-bit single-sample RLE frame (2 segments needed) whose header lists 15."""
    header = struct.pack("<16I", 15, *range(64, 64 + 15))
    return encapsulated_file(good_instance("rle"), RLE_LOSSLESS, header + b"\x00" * 16)


def oversized_fragment() -> bytes:
    """A 64 x 64 x 16-bit frame (8 KB decoded) arriving as a 2 MB fragment."""
    return encapsulated_file(good_instance("fragment"), JPEG_2000_LOSSLESS, b"\xff\x4f\xff\x51" + bytes(2 * 1024**2))


def short_native() -> bytes:
    """Native pixel data claiming 20 frames while holding one."""
    ds = good_instance("short")
    ds.NumberOfFrames = 20
    return saved_file(ds, "1.2.840.10008.1.2.1")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (j2k_tile_grid, ("65536 tiles", "at most 65535")),
        (jpeg_dnl, ("DNL",)),
        (rle_segments, ("RLE header of frame 1 lists 15 segments", "need 2")),
        (oversized_fragment, ("fragment holds 2 MB", "more than a frame of 64 x 64")),
        (short_native, ("truncated", "20 frame(s)", "163840")),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_a_lying_header_fails_before_decoding(make, words: tuple[str, ...]) -> None:
    outcome = process_file("lying.dcm", make())
    assert outcome.failure is not None and outcome.failure.customer, outcome.failure
    for word in words:
        assert word in outcome.failure.message, outcome.failure.message
    assert outcome.times.decode == 0.0


def test_an_object_over_the_file_quota_fails_without_being_read() -> None:
    runner = JobRunner(
        store=None, frames=None, pool=None, now=time.time, stopping=threading.Event(), workers=1  # type: ignore[arg-type]
    )
    # No bucket of that name exists: reading the object would raise instead of returning this failure.
    outcome = runner._one_file("job", "no-such-bucket", InputObject("in/huge.dcm", 5 * 1024**3))
    assert outcome.failure is not None and outcome.failure.customer
    assert outcome.failure.message.startswith("The file is 5 GB, over the 4 GB size quota")
