"""Whether a request's Accept header admits a content type (docs/stored-syntaxes.md#content-negotiation).

The rule is RFC 9110's: a list of media ranges, each optionally weighted; `*/*` and `type/*` match
widely, `q=0` excludes. A header that cannot be parsed is a BadRequestException; one that admits nothing
the endpoint has is a NotAcceptableException (406), the two errors the model lists for GetImageFrame.
"""

from __future__ import annotations

from ahi.emulator.errors import BadRequestException, NotAcceptableException


def weight_of(text: str) -> float | None:
    """An Accept `q` value as a number from 0 to 1, or None when it is not one."""
    try:
        weight = float(text)
    except ValueError:
        return None
    return weight if 0.0 <= weight <= 1.0 else None


def _ranges(header: str) -> list[tuple[str, float]]:
    """(media range, weight) of each element of an Accept header."""
    ranges: list[tuple[str, float]] = []
    for element in header.split(","):
        parts = [part.strip() for part in element.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        if media.count("/") != 1 or any(not half for half in media.split("/")):
            raise BadRequestException(f"Accept header: '{media[:64]}' is not a media range (type/subtype)")
        weight = 1.0
        for parameter in parts[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                parsed = weight_of(value)
                if parsed is None:
                    raise BadRequestException(f"Accept header: q must be a number from 0 to 1, got '{value[:16]}'")
                weight = parsed
        ranges.append((media, weight))
    return ranges


def _matches(media_range: str, content_type: str) -> bool:
    kind, subtype = media_range.split("/")
    offered_kind, offered_subtype = content_type.split("/")
    return kind == "*" or (kind == offered_kind and subtype in ("*", offered_subtype))


def require_acceptable(header: str | None, content_type: str) -> None:
    """Refuse the request unless its Accept header (absent means anything) admits `content_type`."""
    if header is None or not header.strip():
        return
    offered = content_type.split(";")[0].strip().lower()
    ranges = _ranges(header)
    if not ranges:
        return
    # The most specific matching range decides, as RFC 9110 ranks them.
    matching = [(media, weight) for media, weight in ranges if _matches(media, offered)]
    if not matching:
        raise NotAcceptableException(f"The frame is stored as {offered}, which the Accept header does not admit")
    best = max(matching, key=lambda item: (item[0].count("*") == 0, not item[0].startswith("*/"), item[1]))
    if best[1] == 0.0:
        raise NotAcceptableException(f"The frame is stored as {offered}, which the Accept header excludes (q=0)")
