"""Encoding transcoded frames, and decoding stored frames the way clients do (docs/stored-syntaxes.md).

Verification decodes with a decoder other than the encoder where one is installed: HTJ2K is written by
OpenJPH and read back by OpenJPEG (pylibjpeg-openjpeg, the decoder AWS's Python samples use). OpenJPEG
reads components of at most 31 bits, so 32-bit frames are read back by OpenJPH. JPEG 2000 Lossless is
written and read by OpenJPEG (the only Part 1 codec installed), in two separate builds.
"""

from __future__ import annotations

import imagecodecs
import numpy as np
import openjpeg

from ahi.emulator.dicom import htj2k
from ahi.emulator.dicom.stored_syntaxes import (
    HTJ2K,
    HTJ2K_LOSSLESS_RPCL,
    JPEG_2000,
    JPEG_2000_LOSSLESS,
    JPEG_BASELINE,
)

#: The widest component OpenJPEG's codestream reader accepts.
OPENJPEG_MAX_BITS = 31
_JPEG_2000_FAMILY = frozenset({HTJ2K_LOSSLESS_RPCL, HTJ2K, JPEG_2000, JPEG_2000_LOSSLESS})


def encode_lossless(pixels: np.ndarray, stored: str) -> bytes:
    """A frame in a data store's lossless format: JPH-boxed HTJ2K (RPCL, TLM) or a bare JPEG 2000 codestream."""
    if stored == HTJ2K_LOSSLESS_RPCL:
        return htj2k.encode_frame(pixels)
    if stored == JPEG_2000_LOSSLESS:
        return bytes(imagecodecs.jpeg2k_encode(pixels, level=0, reversible=True, codecformat="J2K"))
    raise ValueError(f"{stored} is not a lossless storage format")


def kept_bytes(frame: bytes, stored: str) -> bytes:
    """What is stored for a frame kept in its original syntax: JPEG as is, JPEG 2000 family as a bare codestream.

    `image/j2c` and `image/jphc` name bare codestreams, so a frame that arrived in a JP2/JPH box is unboxed.
    The NULL byte that pads an odd-length fragment (PS3.5 A.4) after the end marker (EOC or EOI, both
    FF D9) belongs to the encapsulation, not to the stream, and is dropped.
    """
    if stored in _JPEG_2000_FAMILY:
        frame = htj2k.codestream_of(frame)
    if frame.endswith(b"\xff\xd9\x00"):
        frame = frame[:-1]
    return frame


def client_decode(data: bytes, stored: str, photometric: str, bits_allocated: int) -> np.ndarray:
    """A stored frame's samples as a client decodes it: rows x cols [x samples], native order.

    JPEG goes through libjpeg-turbo, told the colour space when PhotometricInterpretation says RGB
    (otherwise a three-component JPEG without an Adobe marker is taken as YCbCr and converted).
    """
    if stored in _JPEG_2000_FAMILY:
        if bits_allocated > OPENJPEG_MAX_BITS:
            return imagecodecs.htj2k_decode(htj2k.codestream_of(data))
        return openjpeg.decode(data)
    if stored == JPEG_BASELINE:
        return imagecodecs.jpeg8_decode(data, colorspace="RGB" if photometric == "RGB" else None)
    raise ValueError(f"frames stored as {stored} are not decoded by a codec")


def pack_bits(pixels: np.ndarray) -> bytes:
    """One binary segmentation frame as stored: its samples packed 8 to a byte, first pixel in the lowest bit.

    PS3.5 8.1.1 packs one-bit frames back to back, so frames after the first may start inside a byte;
    each stored frame starts on its own byte (our choice: a client fetches frames one by one).
    """
    return np.packbits(np.ascontiguousarray(pixels, dtype=np.uint8).ravel(), bitorder="little").tobytes()


def unpack_bits(data: bytes, rows: int, columns: int) -> np.ndarray:
    """A stored binary segmentation frame back to rows x columns samples of 0 and 1."""
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little", count=rows * columns)
    return bits.reshape(rows, columns)

