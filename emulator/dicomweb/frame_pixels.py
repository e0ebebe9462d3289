"""A stored frame's bytes in the transfer syntax chosen for it (docs/dicomweb.md#transfer-syntaxes).

Loads numpy and the codecs: only handlers import it, when they serve pixels (docs/startup.md).
Encapsulated frames are bare codestreams, as PS3.5 wants them (the .202 files GetImageFrame serves are
JPH-boxed; the box is dropped here).
"""

from __future__ import annotations

import numpy as np

from ahi.emulator.dicom import htj2k
from ahi.emulator.dicom.frame_codecs import client_decode, pack_bits, unpack_bits
from ahi.emulator.dicom.pixels import native
from ahi.emulator.dicom.stored_syntaxes import EXPLICIT_VR_LITTLE_ENDIAN, HTJ2K_LOSSLESS_RPCL
from ahi.emulator.dicomweb.frames_out import JPEG_2000_FAMILY, PixelShape


def frame_in(data: bytes, stored: str, target: str, shape: PixelShape) -> bytes:
    """One stored frame's bytes in `target` (a syntax `servable` gave)."""
    if target == stored:
        return htj2k.codestream_of(data) if stored in JPEG_2000_FAMILY else data
    pixels = decode(data, stored, shape)
    if target == EXPLICIT_VR_LITTLE_ENDIAN:
        return native_bytes(pixels, shape)
    if target == HTJ2K_LOSSLESS_RPCL:
        return htj2k.encode_codestream(pixels)
    raise ValueError(f"frames stored as {stored} are not given as {target}")


def decode(data: bytes, stored: str, shape: PixelShape) -> np.ndarray:
    """A stored frame's samples: rows x columns [x samples], native byte order."""
    if stored == EXPLICIT_VR_LITTLE_ENDIAN:
        return unpack_bits(data, shape.rows, shape.columns)  # only one-bit segmentations are stored native
    return native(client_decode(data, stored, shape.photometric, shape.bits_allocated))


def native_bytes(pixels: np.ndarray, shape: PixelShape) -> bytes:
    """Samples as Explicit VR Little Endian pixel data: BitsAllocated wide, little endian, interleaved."""
    if shape.bits_allocated == 1:
        return pack_bits(pixels)
    width = max(shape.bits_allocated // 8, 1)
    wanted = np.dtype(f"{'i' if shape.signed else 'u'}{width}").newbyteorder("<")
    return np.ascontiguousarray(pixels).astype(wanted, copy=False).tobytes()
