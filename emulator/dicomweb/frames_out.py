"""Which transfer syntax a stored frame can be served in for a WADO-RS request (docs/dicomweb.md#transfer-syntaxes).

What can be given: Explicit VR Little Endian from any stored form (decoded as a client decodes it,
emulator/dicom/frame_codecs.py); HTJ2K lossless RPCL (.202) from a lossless stored form (as stored, or
JPEG 2000 lossless re-encoded); the stored syntax itself (`*`). A lossy stored frame is never re-encoded
as a lossless syntax, and one-bit frames have no HTJ2K form: those requests are 406.
No imaging library here: the route tables import this module and the endpoint starts without one
(docs/startup.md); the bytes are made in emulator/dicomweb/frame_pixels.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ahi.emulator.dicom.stored_syntaxes import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    HTJ2K,
    HTJ2K_LOSSLESS_RPCL,
    JPEG_2000,
    JPEG_2000_LOSSLESS,
    JPEG_BASELINE,
)

ANY_SYNTAX = "*"
JPEG_2000_FAMILY = frozenset({HTJ2K_LOSSLESS_RPCL, HTJ2K, JPEG_2000, JPEG_2000_LOSSLESS})
#: The media type of a frame in each syntax (PS3.18 Table 8.7.3-5; image/jphc for HTJ2K).
FRAME_MEDIA_TYPES: dict[str, str] = {
    EXPLICIT_VR_LITTLE_ENDIAN: "application/octet-stream",
    HTJ2K_LOSSLESS_RPCL: "image/jphc",
    HTJ2K: "image/jphc",
    JPEG_2000_LOSSLESS: "image/jp2",
    JPEG_2000: "image/jp2",
    JPEG_BASELINE: "image/jpeg",
}


@dataclass(frozen=True)
class PixelShape:
    """What decoding and re-encoding a frame needs from the instance's attributes."""

    rows: int
    columns: int
    samples: int
    bits_allocated: int
    signed: bool
    photometric: str

    @classmethod
    def of(cls, attributes: dict[str, Any]) -> PixelShape:
        return cls(
            rows=int(attributes.get("Rows") or 0),
            columns=int(attributes.get("Columns") or 0),
            samples=int(attributes.get("SamplesPerPixel") or 1),
            bits_allocated=int(attributes.get("BitsAllocated") or 8),
            signed=attributes.get("PixelRepresentation") == 1,
            photometric=str(attributes.get("PhotometricInterpretation") or ""),
        )


def servable(stored: str, requested: str, shape: PixelShape) -> str | None:
    """The syntax to serve for a requested one (`*` = as stored), or None when it cannot be given."""
    if requested in (ANY_SYNTAX, stored):
        return stored
    if requested == EXPLICIT_VR_LITTLE_ENDIAN:
        return requested
    if requested == HTJ2K_LOSSLESS_RPCL and stored == JPEG_2000_LOSSLESS and shape.bits_allocated > 1:
        return requested
    return None


def decodes_to_rgb(stored: str, target: str, shape: PixelShape) -> bool:
    """Whether colour frames served decoded come out as interleaved RGB whatever the stored photometry.

    A client-side decoder converts JPEG's YCbCr and JPEG 2000's YBR_ICT/YBR_RCT to RGB, so the attributes
    of a decoded instance say RGB with PlanarConfiguration 0, as pydicom's own decompression does.
    """
    return shape.samples == 3 and target == EXPLICIT_VR_LITTLE_ENDIAN and stored != EXPLICIT_VR_LITTLE_ENDIAN
