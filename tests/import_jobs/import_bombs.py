"""Small DICOM files whose headers claim far more than they hold: each one a way to exhaust an importer.

Every bomb is a few KB to a few MB on the wire; what it claims (a decoded frame, an inflated data set,
a metadata document) is gigabytes. Each is built from a good 64x64 CT phantom so that everything the
bomb does not target is valid.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import imagecodecs
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO

from ahi.emulator.demo.phantoms import ct_series

DEFLATED = "1.2.840.10008.1.2.1.99"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
#: What the deflate bomb inflates to, and the text the metadata bomb carries (above the 50 MB quota).
DEFLATE_BOMB_BYTES = 1024**3
METADATA_BOMB_ELEMENTS = 6000
METADATA_BOMB_ELEMENT_CHARS = 10_000


def good_instance(key: str) -> Dataset:
    """A valid 64x64 CT instance of its own series (so no bomb shares an image set with the good files)."""
    data = ct_series(1, 64, series_key=f"bomb-{key}")[0][1]
    return pydicom.dcmread(io.BytesIO(data))


def saved_file(ds: Dataset, transfer_syntax: str) -> bytes:
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=False, implicit_vr=False, little_endian=True)
    return buffer.getvalue()


def encapsulated_file(ds: Dataset, transfer_syntax: str, fragment: bytes, **attributes: object) -> bytes:
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.PixelData = encapsulate([fragment])
    ds["PixelData"].VR = "OB"
    return saved_file(ds, transfer_syntax)


def jpeg_sof_bomb() -> bytes:
    """A 64x64 8-bit JPEG Baseline frame whose SOF header claims 65535 x 65535."""
    ds = good_instance("sof")
    frame = imagecodecs.jpeg8_encode(np.full((64, 64), 100, np.uint8), level=90)
    sof = frame.index(b"\xff\xc0")
    patched = frame[: sof + 5] + struct.pack(">HH", 65535, 65535) + frame[sof + 9 :]
    return encapsulated_file(
        ds, JPEG_BASELINE, patched, BitsAllocated=8, BitsStored=8, HighBit=7, PixelRepresentation=0
    )


def j2k_siz_bomb() -> bytes:
    """A 64x64 lossless JPEG 2000 frame whose SIZ marker claims a 60000 x 60000 image in one tile."""
    ds = good_instance("siz")
    pixels = ds.pixel_array
    frame = imagecodecs.jpeg2k_encode(pixels, level=0, codecformat="j2k")
    siz = frame.index(b"\xff\x51")
    fields = struct.pack(">IIIIII", 60000, 60000, 0, 0, 60000, 60000)
    patched = frame[: siz + 6] + fields + frame[siz + 6 + len(fields) :]
    return encapsulated_file(ds, JPEG_2000_LOSSLESS, patched)


def huge_frame_bomb() -> bytes:
    """Rows and Columns of 65535 at 16 bits x 3 samples: a 24 GB frame claimed in a few bytes of RLE."""
    ds = good_instance("rows")
    header = struct.pack("<16I", 6, 64, 66, 68, 70, 72, 74, *([0] * 9))
    return encapsulated_file(
        ds,
        RLE_LOSSLESS,
        header + b"\x00\x00" * 6,
        Rows=65535,
        Columns=65535,
        SamplesPerPixel=3,
        PhotometricInterpretation="RGB",
        PlanarConfiguration=0,
    )


def frame_count_bomb() -> bytes:
    """A valid 64x64 frame in a file that claims 2,000,000,000 of them."""
    ds = good_instance("frames")
    ds.NumberOfFrames = 2_000_000_000
    return saved_file(ds, "1.2.840.10008.1.2.1")


def _raw_element(tag: int, vr: bytes, value_length: int) -> bytes:
    """An Explicit VR Little Endian element header with a 4-byte length (OB, UT, UN...)."""
    return struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, vr, 0, value_length)


def _full_flushed(data: bytes, level: int = 9) -> bytes:
    """Raw deflate blocks for `data` that depend on nothing before them and end on a byte boundary."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def _deflated(ds: Dataset, tail: bytes = b"") -> bytes:
    """`ds` as a Deflated Explicit VR file, its deflated data set followed by the raw deflate blocks `tail`."""
    explicit = DicomBytesIO()
    explicit.is_little_endian, explicit.is_implicit_VR = True, False
    ds.file_meta.TransferSyntaxUID = DEFLATED
    pydicom.filewriter.write_dataset(explicit, ds)
    head = DicomBytesIO()
    head.write(b"\x00" * 128 + b"DICM")
    pydicom.filewriter.write_file_meta_info(head, ds.file_meta, enforce_standard=True)
    final = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    return head.getvalue() + _full_flushed(explicit.getvalue(), level=1) + tail + final


def _without_pixels(key: str) -> Dataset:
    ds = good_instance(key)
    del ds.PixelData
    for keyword in ("Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "SamplesPerPixel",
                    "PhotometricInterpretation", "PixelRepresentation"):
        if keyword in ds:
            delattr(ds, keyword)
    return ds


def deflate_bomb() -> bytes:
    """About 1 MB of deflated data that inflates to 1 GB: one private OB element of zeros."""
    ds = _without_pixels("deflate")
    ds.add_new(0x00290010, "LO", "AHI BOMB")

    # Repeating one self-contained block run is a valid stream: 1 GB in about 1 MB, built in milliseconds.
    block = 16 * 1024 * 1024
    zeros = _full_flushed(bytes(block)) * (DEFLATE_BOMB_BYTES // block)
    return _deflated(ds, _full_flushed(_raw_element(0x00291000, b"OB", DEFLATE_BOMB_BYTES)) + zeros)


def _long_text(key: str, elements: int, instance: int = 1) -> bytes:
    """A deflated instance without pixels carrying `elements` private LT elements of 10,000 characters."""
    ds = _without_pixels(key)
    ds.InstanceNumber = instance
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{ds.SOPInstanceUID}.{instance}"
    text = ("The quick brown fox jumps over the lazy dog. " * 300)[:METADATA_BOMB_ELEMENT_CHARS].encode()
    # Private groups after every element pydicom wrote (ascending tags), one creator and 256 elements each.
    raw = []
    for index in range(elements):
        group, element = 0x0031 + 2 * (index // 256), 0x1000 + index % 256
        if element == 0x1000:
            raw.append(struct.pack("<HH2sH", group, 0x0010, b"LO", 8) + b"AHI BOMB")
        raw.append(struct.pack("<HH2sH", group, element, b"LT", len(text)) + text)
    return _deflated(ds, _full_flushed(b"".join(raw), level=1))


def metadata_bomb() -> bytes:
    """Thousands of long private text elements: a ~60 MB metadata document from a small deflated file."""
    return _long_text("metadata", METADATA_BOMB_ELEMENTS)


def series_over_quota() -> list[tuple[str, bytes]]:
    """Two instances of one series with 30 MB of metadata each: each fits the quota, together they do not."""
    return [(f"bombs/series-{n}.dcm", _long_text("series", METADATA_BOMB_ELEMENTS // 2, n)) for n in (1, 2)]


def nested_sequence_bomb() -> bytes:
    """A 200 MB private OB element inside an undefined-length sequence item, deflated to a few hundred KB."""
    ds = _without_pixels("nested")
    ds.add_new(0x00290010, "LO", "AHI BOMB")
    block = 16 * 1024 * 1024
    size = 12 * block
    opening = (
        struct.pack("<HH2sHI", 0x0029, 0x1001, b"SQ", 0, 0xFFFFFFFF)
        + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
        + _raw_element(0x00291002, b"OB", size)
    )
    closing = struct.pack("<HHIHHI", 0xFFFE, 0xE00D, 0, 0xFFFE, 0xE0DD, 0)
    zeros = _full_flushed(bytes(block)) * (size // block)
    return _deflated(ds, _full_flushed(opening) + zeros + _full_flushed(closing))


def element_count_bomb() -> bytes:
    """600,000 empty private elements: 5 MB of headers, each a Python object once parsed."""
    ds = _without_pixels("elements")
    headers = b"".join(
        struct.pack("<HH2sH", group, element, b"LO", 0)
        for group in range(0x0031, 0x0031 + 2 * 2400, 2)
        for element in range(0x1000, 0x1100)
    )
    return _deflated(ds, _full_flushed(headers, level=1))


BOMBS: dict[str, Callable[[], bytes]] = {
    "bombs/jpeg-sof.dcm": jpeg_sof_bomb,
    "bombs/j2k-siz.dcm": j2k_siz_bomb,
    "bombs/huge-rows-columns.dcm": huge_frame_bomb,
    "bombs/frame-count.dcm": frame_count_bomb,
    "bombs/deflate.dcm": deflate_bomb,
    "bombs/metadata.dcm": metadata_bomb,
    "bombs/nested-sequence.dcm": nested_sequence_bomb,
    "bombs/element-count.dcm": element_count_bomb,
}
