"""DICOMweb Accept headers, parsed strictly, and the representation each retrieve answers with (docs/dicomweb.md#accept).

An Accept header is a comma-separated list of media ranges with parameters (RFC 9110); DICOMweb adds
`type` (the parts' media type of a multipart/related range) and `transfer-syntax`. A range is used
only when every parameter is one the resource knows (q, type, transfer-syntax, charset), so an
unexpected parameter makes that range unusable rather than ignored, as the real service is strict;
ranges are tried by weight, then in the order given. When none can be served the answer is 406
NotAcceptableException naming what was asked for; a header that cannot be parsed at all is 406 too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from ahi.emulator.errors import NotAcceptableException
from ahi.emulator.protocol.accept import weight_of

_KNOWN_PARAMETERS = frozenset({"q", "type", "transfer-syntax", "charset"})
T = TypeVar("T")


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header: `type/subtype` (lowercase) and its parameters (names lowercase)."""

    media_type: str
    parameters: dict[str, str]
    weight: float

    @property
    def part_type(self) -> str | None:
        """The `type` parameter of a multipart range, lowercase, without quotes."""
        value = self.parameters.get("type")
        return None if value is None else value.lower()

    @property
    def transfer_syntax(self) -> str | None:
        return self.parameters.get("transfer-syntax")

    @property
    def strict(self) -> bool:
        """Whether every parameter is one DICOMweb defines for a retrieve."""
        return set(self.parameters) <= _KNOWN_PARAMETERS


def _split(text: str, separator: str) -> Iterator[str]:
    """Split at `separator` outside double quotes."""
    start, quoted = 0, False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            yield text[start:index]
            start = index + 1
    if quoted:
        raise NotAcceptableException(f"Accept header: unbalanced quotes in '{text[:80]}'")
    yield text[start:]


def parse_accept(header: str | None) -> list[MediaRange]:
    """The header's media ranges, heaviest first (stable); an absent or empty header is `*/*`."""
    if header is None or not header.strip():
        return [MediaRange("*/*", {}, 1.0)]
    ranges: list[MediaRange] = []
    for element in _split(header, ","):
        if not element.strip():
            continue
        head, *parameters = [part.strip() for part in _split(element, ";")]
        media_type = head.lower()
        kind, _, subtype = media_type.partition("/")
        if not kind or not subtype or "/" in subtype or " " in media_type:
            raise NotAcceptableException(f"Accept header: '{head[:64]}' is not a media range (type/subtype)")
        values: dict[str, str] = {}
        for parameter in parameters:
            name, equals, value = parameter.partition("=")
            name, value = name.strip().lower(), value.strip()
            if not equals or not name:
                raise NotAcceptableException(f"Accept header: parameter '{parameter[:64]}' is not name=value")
            values[name] = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
        ranges.append(MediaRange(media_type, values, _weight(values.pop("q", "1"))))
    return sorted(ranges, key=lambda item: -item.weight)


def _weight(text: str) -> float:
    weight = weight_of(text)
    if weight is None:
        raise NotAcceptableException(f"Accept header: q must be a number from 0 to 1, got '{text[:16]}'")
    return weight


def negotiate(header: str | None, offer: Callable[[MediaRange], T | None], what: str) -> T:
    """The first representation `offer` gives for a usable range of the header, else 406 naming `what`."""
    for media_range in parse_accept(header):
        if media_range.weight == 0.0 or not media_range.strict:
            continue
        found = offer(media_range)
        if found is not None:
            return found
    raise NotAcceptableException(f"{what} cannot be given as any of the media types the Accept header names: {(header or '')[:200]}")
