"""A STOW-RS request body as parts on disk: one `application/dicom` body, or a `multipart/related` one.

The body is read once, in chunks, and never held whole: each part goes to its own spooled temporary
file, and the store's 1 GB limit is enforced on what has been read so far (and on the declared length
before anything is read). The rules are in docs/dicomweb.md#stow-rs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from werkzeug.http import parse_options_header

from ahi.emulator.errors import ServiceError

#: The guide: "up to 1GB of DICOM data per request" (read as GiB, the lenient reading).
MAX_BODY_BYTES = 1024**3
#: A part's bytes stay in memory up to this size, then go to a temporary file.
SPOOL_IN_MEMORY = 1 << 20
READ_CHUNK = 1 << 16
#: Part headers are a few lines; more than this is not a multipart body we can read.
MAX_PART_HEADER_BYTES = 16 * 1024
DICOM = "application/dicom"
MULTIPART = "multipart/related"


class PayloadTooLarge(ServiceError):
    """A body over the 1 GB a store request takes (the common AWS error for it, 413)."""

    code = "RequestEntityTooLargeException"
    status = 413


class UnsupportedMediaType(ServiceError):
    """A body that is neither `application/dicom` nor `multipart/related` with DICOM parts (415)."""

    code = "UnsupportedMediaTypeException"
    status = 415


def _bad_body(message: str) -> ServiceError:
    return ServiceError(message, code="ValidationException", status=400)


@dataclass
class Part:
    """One part of the body: its media type and its bytes, on disk past 1 MiB."""

    number: int
    media_type: str
    data: IO[bytes]


@dataclass
class Body:
    """The parts of one request, closed together."""

    parts: list[Part] = field(default_factory=list)

    def close(self) -> None:
        for part in self.parts:
            part.data.close()


def check_declared_length(content_length: str | None) -> None:
    """Refuse a body whose declared length is over the limit before reading any of it."""
    if content_length and content_length.isdigit() and int(content_length) > MAX_BODY_BYTES:
        raise too_large(int(content_length))


def too_large(size: int | None = None) -> PayloadTooLarge:
    said = "" if size is None else f" ({size} bytes)"
    return PayloadTooLarge(f"The request body{said} is over the {MAX_BODY_BYTES} bytes a store request accepts.")


@contextmanager
def read_body(stream: BinaryIO, content_type: str | None) -> Iterator[Body]:
    """The body's parts, read from `stream`; their files are closed on the way out."""
    media_type, options = parse_options_header(content_type or "")
    media_type = media_type.lower()
    body = Body()
    counted = _Counted(stream)
    try:
        if media_type == DICOM:
            body.parts.append(Part(1, DICOM, _spool_all(counted)))
        elif media_type == MULTIPART:
            _check_multipart_type(options.get("type"))
            boundary = options.get("boundary")
            if not boundary:
                raise _bad_body("The Content-Type multipart/related has no boundary parameter.")
            body.parts.extend(_parts(counted, boundary.encode("utf-8"), options.get("type")))
        else:
            raise UnsupportedMediaType(
                f"A store request's Content-Type must be {DICOM} or {MULTIPART}; got {media_type or 'none'}."
            )
        yield body
    finally:
        body.close()


def _check_multipart_type(declared: str | None) -> None:
    """Only DICOM parts are stored; a body declared as metadata and bulk data is refused whole."""
    if declared and parse_options_header(declared)[0].lower() != DICOM:
        raise UnsupportedMediaType(
            f"The multipart/related type {declared} is not supported; parts must be {DICOM} (DICOM Part 10 files)."
        )


class _Counted:
    """The request stream, counting what is read against the limit."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.total = 0

    def read(self, size: int = READ_CHUNK) -> bytes:
        chunk = self.stream.read(size)
        self.total += len(chunk)
        if self.total > MAX_BODY_BYTES:
            raise too_large()
        return chunk


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed with its Body


def _spool_all(stream: _Counted) -> IO[bytes]:
    spool = _spool()
    while chunk := stream.read():
        spool.write(chunk)
    spool.seek(0)
    return spool


def _parts(stream: _Counted, boundary: bytes, declared: str | None) -> Iterator[Part]:
    """Each part of a multipart body, its bytes written to a spool as they arrive (PS3.18 / RFC 2046 framing)."""
    reader = _Buffered(stream)
    delimiter = b"--" + boundary
    if not reader.skip_past(delimiter, allow_at_start=True):
        raise _bad_body("The multipart body has no part: its boundary never appears.")
    number = 0
    while True:
        ending = reader.peek(2)
        if ending == b"--":
            return  # the close delimiter; an epilogue is ignored
        reader.skip_line()
        headers = reader.headers()
        number += 1
        media_type = parse_options_header(headers.get("content-type") or declared or "")[0].lower()
        spool = _spool()
        found = reader.copy_until(b"\r\n" + delimiter, spool)
        spool.seek(0)
        if not found:
            spool.close()
            raise _bad_body(f"The multipart body ends inside part {number}: its closing boundary is missing.")
        yield Part(number, media_type, spool)


class _Buffered:
    """A little buffer over the stream for finding delimiters that may straddle two reads."""

    def __init__(self, stream: _Counted) -> None:
        self.stream = stream
        self.buffer = b""
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read()
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def peek(self, size: int) -> bytes:
        while len(self.buffer) < size and self._fill():
            pass
        return self.buffer[:size]

    def skip_past(self, marker: bytes, allow_at_start: bool = False) -> bool:
        """Drop everything up to and including the first `marker` (at the start, or after CRLF)."""
        while True:
            if allow_at_start and self.buffer.startswith(marker):
                self.buffer = self.buffer[len(marker):]
                return True
            at = self.buffer.find(b"\r\n" + marker)
            if at >= 0:
                self.buffer = self.buffer[at + 2 + len(marker):]
                return True
            if len(self.buffer) > len(marker) + 2:
                keep = len(marker) + 2
                allow_at_start = False
                self.buffer = self.buffer[-keep:]
            if not self._fill():
                return False

    def skip_line(self) -> None:
        """The rest of the delimiter line (transport padding and CRLF)."""
        while (at := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > MAX_PART_HEADER_BYTES or not self._fill():
                raise _bad_body("The multipart body has a boundary line that does not end.")
        self.buffer = self.buffer[at + 2:]

    def headers(self) -> dict[str, str]:
        """A part's header lines, by lower-case name, up to the empty line."""
        while (at := self.buffer.find(b"\r\n\r\n")) < 0 and not self.buffer.startswith(b"\r\n"):
            if len(self.buffer) > MAX_PART_HEADER_BYTES or not self._fill():
                raise _bad_body("A part of the multipart body has headers that do not end.")
        if self.buffer.startswith(b"\r\n"):
            self.buffer = self.buffer[2:]
            return {}
        block, self.buffer = self.buffer[:at], self.buffer[at + 4:]
        headers: dict[str, str] = {}
        for line in block.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        return headers

    def copy_until(self, marker: bytes, sink: IO[bytes]) -> bool:
        """Write the bytes before `marker` to `sink` and drop the marker; False if the stream ends first."""
        while True:
            at = self.buffer.find(marker)
            if at >= 0:
                sink.write(self.buffer[:at])
                self.buffer = self.buffer[at + len(marker):]
                return True
            safe = len(self.buffer) - len(marker) + 1
            if safe > 0:
                sink.write(self.buffer[:safe])
                self.buffer = self.buffer[safe:]
            if not self._fill():
                return False
