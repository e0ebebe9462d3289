"""Reading a `multipart/related` DICOMweb answer (PS3.18: one part per frame or instance) into its bodies."""

from __future__ import annotations

from email.message import Message

from ahi.services.errors import AwsCallError


def boundary_of(content_type: str) -> str | None:
    """The `boundary` parameter of a Content-Type header (quoted or not)."""
    message = Message()
    message["Content-Type"] = content_type
    boundary = message.get_param("boundary")
    return boundary if isinstance(boundary, str) and boundary else None


def multipart_parts(content_type: str, body: bytes) -> list[bytes]:
    """The part bodies of a multipart body, in order (each part's headers dropped)."""
    boundary = boundary_of(content_type)
    if not content_type.lower().startswith("multipart/") or boundary is None:
        raise AwsCallError("GetDICOMInstanceFrames", "BadMultipart", f"not a multipart answer: {content_type[:200]!r}")
    # A delimiter is CRLF "--" boundary (RFC 2046); the body's first one may lack the CRLF.
    sections = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    parts: list[bytes] = []
    for section in sections[1:]:
        if section.startswith(b"--"):
            return parts
        _, separator, content = section.partition(b"\r\n\r\n")
        if not separator:
            raise AwsCallError("GetDICOMInstanceFrames", "BadMultipart", "a part without a blank line after its headers")
        parts.append(content)
    raise AwsCallError("GetDICOMInstanceFrames", "BadMultipart", "the multipart body has no closing delimiter")
