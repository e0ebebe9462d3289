"""Lossless HTJ2K frames in a JPH file wrapper: what GetImageFrame returns.

Frame wire format: a JPH file (ISO/IEC 15444-15 Annex D: signature, `ftyp` brand `jph `, `jp2h` with
`ihdr` + `colr`, then the codestream in `jp2c`). docs/clients.md#frame-container: AWS's own Python and C++
workflows open frames with OpenJPEG's JP2 reader, which rejects a bare codestream, while every
OpenJPH-based client (and imagecodecs) reads the boxed form too; so the boxed form serves all known clients.

The codestream is what the .202 syntax asks for: reversible (lossless) wavelet, RPCL progression
(OpenJPH's default), TLM markers and one tile-part per resolution level, so the tile-level-marker
proxy pattern (docs/clients.md#progressive-fetch) can cut progressive ranges out of it.
"""

from __future__ import annotations

import struct

import imagecodecs
import numpy as np

_SIGNATURE_BOX = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_FTYP_BOX = struct.pack(">I4s4sI4s", 20, b"ftyp", b"jph ", 0, b"jph ")
_ENUM_GREYSCALE = 17
_ENUM_SRGB = 16


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def encode_codestream(pixels: np.ndarray) -> bytes:
    """A bare lossless HTJ2K codestream (RPCL, TLM, tile-parts by resolution) of one frame."""
    return imagecodecs.htj2k_encode(pixels, reversible=True, tlm=True, tilepart=1)


def wrap_jph(codestream: bytes, pixels: np.ndarray) -> bytes:
    """Box a codestream as a JPH file describing `pixels` (rows x cols [x samples])."""
    rows, cols = pixels.shape[:2]
    samples = pixels.shape[2] if pixels.ndim == 3 else 1
    precision = pixels.dtype.itemsize * 8
    bpc = (precision - 1) | (0x80 if pixels.dtype.kind == "i" else 0)
    ihdr = _box(b"ihdr", struct.pack(">IIHBBBB", rows, cols, samples, bpc, 7, 0, 0))
    colour = _ENUM_SRGB if samples == 3 else _ENUM_GREYSCALE
    colr = _box(b"colr", struct.pack(">BBBI", 1, 0, 0, colour))
    return _SIGNATURE_BOX + _FTYP_BOX + _box(b"jp2h", ihdr + colr) + _box(b"jp2c", codestream)


def encode_frame(pixels: np.ndarray) -> bytes:
    """The stored (and served) form of one frame: a JPH file holding a lossless HTJ2K codestream."""
    return wrap_jph(encode_codestream(pixels), pixels)


def codestream_of(data: bytes) -> bytes:
    """The codestream inside a JPH/JP2 file, or `data` itself when it is already bare."""
    if not data.startswith(_SIGNATURE_BOX):
        return data
    offset = 0
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if length == 1:
            (length,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif length == 0:
            length = len(data) - offset
        if kind == b"jp2c":
            return data[offset + header : offset + length]
        offset += length
    raise ValueError("JPH file has no jp2c codestream box")


def decode_frame(data: bytes) -> np.ndarray:
    """Decode a stored frame (JPH or bare codestream) to rows x cols [x samples] native samples."""
    return imagecodecs.htj2k_decode(codestream_of(data))


def _warm_up() -> None:
    """Encode and decode one tiny frame so OpenJPH's lazily built coder tables exist before any thread runs.

    OpenJPH (as bundled in imagecodecs) fills them on first use without a lock: in a fresh process,
    eight threads encoding at once produced an undecodable codestream in 5 of 30 runs. Module import
    is serialized by Python, so doing it here makes every later encode start from complete tables.
    """
    for sample in (np.zeros((8, 8), np.uint16), np.zeros((8, 8, 3), np.uint8)):
        decode_frame(encode_frame(sample))


_warm_up()
