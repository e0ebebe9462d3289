"""One frame from source pixels to a verified stored frame (docs/service.md#pixel-data-verification)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ahi.emulator.dicom.checksum import checksum_entries, frame_checksum
from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.frame_codecs import client_decode, encode_lossless
from ahi.emulator.dicom.stored_syntaxes import HTJ2K_LOSSLESS_RPCL, STORED_FORMS
from ahi.emulator.ids import new_id


@dataclass
class StageTimes:
    """Seconds spent per pipeline stage (the bench prints their shares)."""

    parse: float = 0.0
    decode: float = 0.0
    encode: float = 0.0
    verify: float = 0.0

    def add(self, other: StageTimes) -> None:
        """Accumulate another file's times."""
        self.parse += other.parse
        self.decode += other.decode
        self.encode += other.encode
        self.verify += other.verify


@dataclass
class StoredFrame:
    """A frame ready to commit: its ID, its stored bytes, its metadata entry and its file suffix."""

    frame_id: str
    data: bytes
    entry: dict[str, object] = field(repr=False)
    #: The stored syntax's file suffix (emulator/dicom/stored_syntaxes.py), which GetImageFrame serves by.
    suffix: str = ".jph"


def store_frame(pixels: np.ndarray, number: int, times: StageTimes, stored: str = HTJ2K_LOSSLESS_RPCL) -> StoredFrame:
    """Encode a frame losslessly in `stored`, decode it again and compare before anything is committed.

    The source IFRC is taken before encoding; the decoded stored frame must equal the source sample
    for sample (stricter than comparing IFRCs, which cannot then differ). The decoder is not the
    encoder where another one reads the format (emulator/dicom/frame_codecs.py).
    """
    started = time.perf_counter()
    data = encode_lossless(pixels, stored)
    encoded = time.perf_counter()
    original = frame_checksum(pixels)
    decoded = client_decode(data, stored, "", pixels.dtype.itemsize * 8)
    # Equal arrays have equal IFRCs, so the exact comparison also is the checksum comparison of
    # docs/service.md#pixel-data-verification.
    if decoded.shape != pixels.shape or decoded.dtype != pixels.dtype or not np.array_equal(decoded, pixels):
        raise FileFailure(
            f"Pixel data verification failed for frame {number}: the stored frame does not decode "
            "to the original pixels",
            exception_type="InternalServerException",
            customer=False,
        )
    times.encode += encoded - started
    times.verify += time.perf_counter() - encoded
    return _stored(data, pixels, original, stored)


def keep_frame(data: bytes, pixels: np.ndarray, times: StageTimes, stored: str) -> StoredFrame:
    """A frame stored in its original encoding; `pixels` is what a client decodes from `data`.

    The current guide computes the checksum of such frames on the original image (docs/stored-syntaxes.md).
    """
    started = time.perf_counter()
    frame = _stored(data, pixels, frame_checksum(pixels), stored)
    times.verify += time.perf_counter() - started
    return frame


def _stored(data: bytes, pixels: np.ndarray, checksum: int, stored: str) -> StoredFrame:
    entry: dict[str, object] = {
        "ID": new_id(),
        "PixelDataChecksumFromBaseToFullResolution": checksum_entries(pixels, checksum),
        "MinPixelValue": int(pixels.min()),
        "MaxPixelValue": int(pixels.max()),
        # The size of the stored frame as served, not the decoded size, as in the real document of
        # docs/clients.md#a-real-metadata-document (168371 bytes for a 640x640 16-bit frame).
        "FrameSizeInBytes": len(data),
    }
    return StoredFrame(frame_id=str(entry["ID"]), data=data, entry=entry, suffix=STORED_FORMS[stored].suffix)
