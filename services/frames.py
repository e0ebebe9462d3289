"""Image frames: fetch with GetImageFrame, decode, verify the CRC-32, and keep a small LRU cache.

Frames come as the data store stored them (docs/stored-syntaxes.md): HTJ2K (JPH file or bare codestream),
JPEG 2000 codestreams, JPEG baseline, or the packed bits of a binary segmentation.

The checksum rule is docs/clients.md#the-frame-checksum: CRC-32 (zlib) over the decoded full-resolution samples,
row-major and pixel-interleaved, little-endian, each sample as wide as its precision needs (1, 2 or 4
bytes) and signed when the component is; compared with the widest entry of
`PixelDataChecksumFromBaseToFullResolution`.

Frame bytes come from whoever answers GetImageFrame, so the body is read up to a cap and the
codestream's SIZ header (and a JP2/JPH file's `ihdr`) is checked against the limits below before any
decoder runs (docs/console-limits.md).
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import imagecodecs
import numpy as np

_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_CODESTREAM_START = b"\xff\x4f\xff\x51"
_JPEG_START = b"\xff\xd8"
#: JPEG start-of-frame markers (SOF0-SOF15 but DHT, JPG and DAC), whose segment holds the image size.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024
#: Limits on what a frame header may claim (docs/console-limits.md): above any single frame a modality
#: produces (mammography, the largest, is about 6k x 5k at 16 bits: 56 MiB) and within what the preview
#: can hold with its working copies.
MAX_FRAME_SIDE = 16384
MAX_FRAME_COMPONENTS = 4
MAX_FRAME_TILES = 4096
MAX_DECODED_BYTES = 128 * 1024 * 1024
#: The most bytes read from a GetImageFrame body: a lossless codestream of the largest allowed frame
#: plus an eighth for incompressible data and the JPH boxes.
MAX_FRAME_BYTES = MAX_DECODED_BYTES + MAX_DECODED_BYTES // 8
#: How much of the body is read before the header is checked (the SIZ of a JPH file sits in its first
#: hundred bytes; a file whose codestream starts later is checked once it has all arrived).
HEADER_PEEK_BYTES = 64 * 1024
#: Boxes looked at in one JP2/JPH box list before giving up on finding the codestream.
MAX_BOXES = 1024
_SIZ_FIXED = 38  # Lsiz .. Csiz, the bytes after the SIZ marker before the component entries
# JP2 `colr` enumerated colour spaces (ISO/IEC 15444-1 Annex I.5.3.3).
_ENUMERATED_COLOUR_SPACES = {16: "sRGB", 17: "greyscale", 18: "sYCC"}


class FrameDecodeError(ValueError):
    """The frame bytes are not a JPEG 2000 / HTJ2K / JPEG image (or binary segmentation) that decodes."""


class FrameTooLarge(FrameDecodeError):
    """The frame claims (or sends) more than the console decodes: refused before any decoder runs."""


@dataclass(frozen=True)
class FrameHeader:
    """What a frame's header claims: the image grid, components, widest precision and tile count."""

    width: int
    height: int
    components: int
    bits: int
    tiles: int = 1

    @property
    def decoded_bytes(self) -> int:
        """The decoder's output size: one sample per component, 1, 2 or 4 bytes as the precision needs."""
        width = 1 if self.bits <= 8 else 2 if self.bits <= 16 else 4
        return self.width * self.height * self.components * width

    def problem(self) -> str | None:
        """Why the console will not decode this frame, or None when it is within the limits."""
        if self.width <= 0 or self.height <= 0 or self.components <= 0:
            return f"frame header claims an empty image ({self.width}x{self.height}, {self.components} components)"
        if max(self.width, self.height) > MAX_FRAME_SIDE:
            return f"frame header claims {self.width}x{self.height} pixels; the preview decodes up to {MAX_FRAME_SIDE} a side"
        if self.components > MAX_FRAME_COMPONENTS:
            return f"frame header claims {self.components} components; the preview decodes up to {MAX_FRAME_COMPONENTS}"
        if self.tiles > MAX_FRAME_TILES:
            return f"frame header claims {self.tiles:,} tiles; the preview decodes up to {MAX_FRAME_TILES:,}"
        if self.decoded_bytes > MAX_DECODED_BYTES:
            return (
                f"frame header claims {self.width}x{self.height}x{self.components} at {self.bits} bits "
                f"({self.decoded_bytes / 2**20:,.0f} MiB decoded); the preview decodes up to {MAX_DECODED_BYTES // 2**20} MiB"
            )
        return None


@dataclass(frozen=True)
class FrameKey:
    """One frame of one image set version: the cache key."""

    image_set_id: str
    version_id: str
    frame_id: str


class ChecksumState(str, Enum):
    OK = "ok"
    MISMATCH = "mismatch"
    ABSENT = "absent"


@dataclass(frozen=True)
class ChecksumCheck:
    """The outcome of comparing the decoded frame's CRC-32 with the metadata's."""

    state: ChecksumState
    actual: int
    expected: int | None = None

    def describe(self) -> str:
        if self.state is ChecksumState.OK:
            return f"CRC-32 ok ({self.actual})"
        if self.state is ChecksumState.MISMATCH:
            return f"CRC-32 MISMATCH: metadata {self.expected}, decoded {self.actual}"
        return f"CRC-32 not in metadata (decoded {self.actual})"


@dataclass(frozen=True)
class DecodedFrame:
    """Decoded samples of one frame with their checksum verdict."""

    key: FrameKey
    pixels: np.ndarray
    checksum: ChecksumCheck
    encoded_size: int = 0
    colour_space: str | None = None

    @property
    def nbytes(self) -> int:
        return int(self.pixels.nbytes)


def is_jpeg(data: bytes) -> bool:
    """True for a JPEG stream (SOI first)."""
    return data.startswith(_JPEG_START)


def _jpeg_header(data: bytes) -> FrameHeader | None:
    """The image size in a JPEG stream's SOF segment, or None when it has not arrived yet."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise FrameDecodeError(f"JPEG stream has no marker at byte {position}")
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if marker in (0xD9, 0xDA):
            raise FrameDecodeError("JPEG stream has no frame header before its scan")
        (length,) = struct.unpack_from(">H", data, position + 2)
        if marker in _JPEG_SOF:
            if position + 10 > len(data):
                return None
            precision, height, width, components = struct.unpack_from(">BHHB", data, position + 4)
            return FrameHeader(width, height, components, precision)
        position += 2 + length
    return None


def is_jpeg2000(data: bytes) -> bool:
    """True for a bare codestream (SOC then SIZ) or a JP2-family file (JP2, JPH)."""
    return data.startswith(_CODESTREAM_START) or data.startswith(_JP2_SIGNATURE)


def jp2_colour_space(data: bytes) -> str | None:
    """The enumerated colour space of a JP2/JPH file's `colr` box ("sRGB", "greyscale", "sYCC"), else None."""
    if not data.startswith(_JP2_SIGNATURE):
        return None
    for kind, start, end in _boxes(data, len(_JP2_SIGNATURE), len(data)):
        if kind == b"jp2h":
            for inner, payload, payload_end in _boxes(data, start, end):
                if inner == b"colr" and payload_end - payload >= 7 and data[payload] == 1:
                    (enumerated,) = struct.unpack_from(">I", data, payload + 3)
                    return _ENUMERATED_COLOUR_SPACES.get(enumerated)
            return None
        if kind == b"jp2c":
            return None
    return None


def _boxes(data: bytes, offset: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes between offset and end, one at a time (a
    hostile file may hold millions of empty boxes); stops after MAX_BOXES, far more than a JP2 file has."""
    for _ in range(MAX_BOXES):
        if offset + 8 > end:
            return
        length, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if length == 1 and offset + 16 <= end:
            (length,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif length == 0:
            length = end - offset
        if length < header:
            break
        yield kind, offset + header, min(offset + length, end)
        offset += length


def _siz(data: bytes, offset: int) -> FrameHeader:
    """The SIZ segment of the codestream starting at `offset` (ISO/IEC 15444-1 A.5.1)."""
    if data[offset : offset + 4] != _CODESTREAM_START:
        raise FrameDecodeError("codestream does not start with SOC and SIZ")
    start = offset + 4
    if len(data) < start + _SIZ_FIXED:
        raise FrameDecodeError("codestream ends inside its SIZ header")
    _lsiz, _rsiz, xsiz, ysiz, xosiz, yosiz, xtsiz, ytsiz, xtosiz, ytosiz, csiz = struct.unpack_from(">HHIIIIIIIIH", data, start)
    if xtsiz == 0 or ytsiz == 0 or xosiz >= xsiz or yosiz >= ysiz or xtosiz > xosiz or ytosiz > yosiz:
        raise FrameDecodeError(f"SIZ header is inconsistent (image {xsiz}x{ysiz}, offset {xosiz},{yosiz}, tile {xtsiz}x{ytsiz})")
    tiles = -(-(xsiz - xtosiz) // xtsiz) * -(-(ysiz - ytosiz) // ytsiz)
    components = data[start + _SIZ_FIXED : start + _SIZ_FIXED + 3 * min(csiz, MAX_FRAME_COMPONENTS + 1)]
    bits = max(((components[i] & 0x7F) + 1 for i in range(0, len(components) - 2, 3)), default=0)
    if csiz <= MAX_FRAME_COMPONENTS and len(components) < 3 * csiz:
        raise FrameDecodeError("codestream ends inside its SIZ component list")
    return FrameHeader(xsiz - xosiz, ysiz - yosiz, csiz, bits, tiles)


def frame_header(data: bytes) -> FrameHeader | None:
    """What the frame's header claims (the SIZ segment; a JP2/JPH file's `ihdr` too, the larger of the two),
    or None when the codestream has not arrived yet (a JP2 file cut short). A JPEG's SOF segment counts
    the same way. Raises FrameDecodeError on bytes that are neither or a malformed header."""
    if is_jpeg(data):
        return _jpeg_header(data)
    if data.startswith(_CODESTREAM_START):
        return _siz(data, 0)
    if not data.startswith(_JP2_SIGNATURE):
        raise FrameDecodeError(f"frame is not JPEG 2000: starts with {data[:12].hex() or 'nothing'}")
    declared: FrameHeader | None = None
    for kind, start, end in _boxes(data, len(_JP2_SIGNATURE), len(data)):
        if kind == b"jp2h":
            for inner, payload, payload_end in _boxes(data, start, end):
                if inner == b"ihdr" and payload_end - payload >= 11:
                    height, width, components, bpc = struct.unpack_from(">IIHB", data, payload)
                    declared = FrameHeader(width, height, components, (bpc & 0x7F) + 1 if bpc != 255 else 0)
        elif kind == b"jp2c":
            if end - start < 4 + _SIZ_FIXED:
                return None
            siz = _siz(data, start)
            if declared is not None and declared.problem() is not None:
                return declared
            return siz
    return None


def check_header(data: bytes) -> FrameHeader:
    """The frame's header, refused (FrameTooLarge) when it claims more than the limits allow."""
    header = frame_header(data)
    if header is None:
        raise FrameDecodeError("frame has no codestream (no jp2c box with a SIZ header)")
    problem = header.problem()
    if problem is not None:
        raise FrameTooLarge(problem)
    return header


def decode_frame(data: bytes, photometric: str | None = None, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Decode GetImageFrame bytes to rows x cols [x samples].

    The header is checked first (check_header), so a frame claiming more than the limits is refused
    before a decoder allocates for it. imagecodecs' OpenJPH decoder reads bare HTJ2K codestreams and JPH
    files; a Part 1 (non-HT) JPEG 2000 frame falls back to its OpenJPEG decoder. JPEG goes through
    libjpeg-turbo, told the components are RGB when the metadata's `photometric` says so (a JPEG
    without an Adobe marker is otherwise taken as YCbCr). Bytes that are neither, exactly as long as
    the packed bits of a `shape` (rows, columns) frame, are a binary segmentation frame (first pixel
    in the lowest bit).
    """
    if shape is not None and not is_jpeg(data) and not is_jpeg2000(data):
        return _unpack_bits(data, *shape)
    check_header(data)
    if is_jpeg(data):
        try:
            return imagecodecs.jpeg8_decode(data, colorspace="RGB" if photometric == "RGB" else None)
        except Exception as error:
            raise FrameDecodeError(f"frame does not decode: {error}") from error
    try:
        return imagecodecs.htj2k_decode(data)
    except Exception as ht_error:
        try:
            return imagecodecs.jpeg2k_decode(data)
        except Exception:
            raise FrameDecodeError(f"frame does not decode: {ht_error}") from ht_error


def _unpack_bits(data: bytes, rows: int, columns: int) -> np.ndarray:
    if rows <= 0 or columns <= 0 or max(rows, columns) > MAX_FRAME_SIDE or len(data) != -(-rows * columns // 8):
        raise FrameDecodeError(f"frame is not JPEG 2000 or JPEG: starts with {data[:12].hex() or 'nothing'}")
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little", count=rows * columns)
    return bits.reshape(rows, columns)


def frame_crc32(pixels: np.ndarray) -> int:
    """CRC-32 of decoded samples by the IFRC rule (little-endian, interleaved, decoder's sample width)."""
    little = pixels.astype(pixels.dtype.newbyteorder("<"), copy=False)
    return zlib.crc32(np.ascontiguousarray(little)) & 0xFFFFFFFF


def expected_checksum(frame_entry: Mapping[str, Any] | None) -> int | None:
    """The full-resolution checksum of an ImageFrames entry: the widest of its list, None if absent."""
    levels = (frame_entry or {}).get("PixelDataChecksumFromBaseToFullResolution") or []
    levels = [level for level in levels if isinstance(level, Mapping) and level.get("Checksum") is not None]
    if not levels:
        return None
    widest = max(levels, key=lambda level: level.get("Width") or 0)
    return int(widest["Checksum"]) & 0xFFFFFFFF


def verify_checksum(pixels: np.ndarray, expected: int | None) -> ChecksumCheck:
    """Compare the decoded samples' CRC-32 with the expected one."""
    actual = frame_crc32(pixels)
    if expected is None:
        return ChecksumCheck(ChecksumState.ABSENT, actual)
    state = ChecksumState.OK if actual == expected else ChecksumState.MISMATCH
    return ChecksumCheck(state, actual, expected)


def decode_and_verify(
    key: FrameKey,
    data: bytes,
    expected: int | None,
    photometric: str | None = None,
    shape: tuple[int, int] | None = None,
) -> DecodedFrame:
    """Decode one frame's bytes and check them against the metadata checksum.

    A colour JPEG decodes to RGB whatever its PhotometricInterpretation says (the YCbCr inside is
    undone by the decoder), so its colour space is reported as sRGB, like a JPH file's `colr` box.
    """
    pixels = decode_frame(data, photometric, shape)
    colour = "sRGB" if is_jpeg(data) and pixels.ndim == 3 else jp2_colour_space(data)
    return DecodedFrame(key, pixels, verify_checksum(pixels, expected), len(data), colour)


class FrameCache:
    """A thread-safe LRU of decoded frames, bounded by the bytes of their pixels."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._frames: OrderedDict[FrameKey, DecodedFrame] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: FrameKey) -> DecodedFrame | None:
        with self._lock:
            frame = self._frames.get(key)
            if frame is not None:
                self._frames.move_to_end(key)
            return frame

    def put(self, frame: DecodedFrame) -> None:
        """Keep `frame`, evicting the least recently used; a frame larger than the whole cache is not kept."""
        with self._lock:
            old = self._frames.pop(frame.key, None)
            if old is not None:
                self._bytes -= old.nbytes
            if frame.nbytes > self.max_bytes:
                return
            self._frames[frame.key] = frame
            self._bytes += frame.nbytes
            while self._bytes > self.max_bytes:
                _, evicted = self._frames.popitem(last=False)
                self._bytes -= evicted.nbytes

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._frames

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return self._bytes


FrameFetcher = Callable[[FrameKey], bytes]


@dataclass
class FrameSource:
    """Decoded frames on demand: the cache first, else fetch, decode and verify (blocking; run in a worker)."""

    fetch: FrameFetcher
    cache: FrameCache = field(default_factory=FrameCache)

    def load(
        self,
        key: FrameKey,
        expected: int | None,
        photometric: str | None = None,
        shape: tuple[int, int] | None = None,
    ) -> DecodedFrame:
        """The frame decoded and verified; `photometric` and `shape` come from the metadata (see decode_frame)."""
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        frame = decode_and_verify(key, self.fetch(key), expected, photometric, shape)
        self.cache.put(frame)
        return frame


def get_image_frame_bytes(
    client: Any, datastore_id: str, image_set_id: str, frame_id: str, max_bytes: int = MAX_FRAME_BYTES
) -> bytes:
    """GetImageFrame: the frame body as bytes, read in chunks and refused (FrameTooLarge) past
    `max_bytes` or as soon as its header claims more than the limits; the connection is closed then."""
    response = client.get_image_frame(
        datastoreId=datastore_id,
        imageSetId=image_set_id,
        imageFrameInformation={"imageFrameId": frame_id},
    )
    body = response["imageFrameBlob"]
    chunks: list[bytes] = []
    received = 0
    checked = False
    try:
        for chunk in body.iter_chunks(HEADER_PEEK_BYTES):
            received += len(chunk)
            if received > max_bytes:
                raise FrameTooLarge(f"frame body is over {max_bytes / 2**20:,.0f} MiB; the preview reads up to that")
            chunks.append(chunk)
            if not checked and received >= HEADER_PEEK_BYTES:
                head = b"".join(chunks)
                chunks = [head]
                _refuse_large_claims(head)
                checked = True
        return b"".join(chunks)
    finally:
        body.close()


def _refuse_large_claims(head: bytes) -> None:
    """Refuse a frame whose header, in the first bytes of its body, claims too much (a header not there
    yet is checked by decode_frame once the body has arrived)."""
    if not is_jpeg(head) and not is_jpeg2000(head):
        return  # a binary segmentation's bits: the body cap bounds it
    header = frame_header(head)
    problem = header.problem() if header is not None else None
    if problem is not None:
        raise FrameTooLarge(problem)


def client_fetcher(client: Any, datastore_id: str, max_bytes: int = MAX_FRAME_BYTES) -> FrameFetcher:
    """A FrameFetcher calling GetImageFrame on `client` (the version does not change a frame's bytes)."""

    def fetch(key: FrameKey) -> bytes:
        return get_image_frame_bytes(client, datastore_id, key.image_set_id, key.frame_id, max_bytes)

    return fetch

