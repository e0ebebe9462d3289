"""multipart/related response bodies (RFC 2387, PS3.18 8.6.1.2): one part per frame or instance, streamed.

Each part carries its own Content-Type and a Content-Location naming the resource it holds. The boundary
is random per response; the body is produced part by part, so frames are decoded as they are sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from werkzeug.wrappers import Response

from ahi.emulator.app import log_unexpected


@dataclass(frozen=True)
class Part:
    """One body part: its content type, where it comes from, and how to get its bytes (called when sent)."""

    content_type: str
    location: str
    content: Callable[[], bytes]


def multipart_response(parts: Iterable[Part], part_type: str, operation: str = "-", request_id: str = "-") -> Response:
    """A 200 multipart/related response whose `type` parameter is the parts' media type."""
    boundary = uuid.uuid4().hex
    content_type = f'multipart/related; type="{part_type}"; boundary={boundary}'
    body = _body(parts, boundary, operation, request_id)
    return Response(body, status=200, content_type=content_type, direct_passthrough=True)


def _body(parts: Iterable[Part], boundary: str, operation: str, request_id: str) -> Iterator[bytes]:
    """The parts, then the closing delimiter; a part that fails ends the body without it, so the client sees the cut."""
    for part in parts:
        try:
            content = part.content()
        except Exception as exc:  # the status has been sent: log it as the app would, and stop
            log_unexpected(exc, operation, request_id)
            return
        head = f"--{boundary}\r\nContent-Type: {part.content_type}\r\nContent-Location: {part.location}\r\n\r\n"
        yield head.encode("latin-1")
        yield content
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode("latin-1")
