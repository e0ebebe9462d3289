"""Scalar conversions shared by the parser and serializer: timestamps and text forms of model types."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from email.utils import format_datetime, parsedate_to_datetime

from botocore.model import Shape

from ahi.emulator.errors import SerializationException

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def timestamp_format(shape: Shape, location: str | None) -> str:
    """The member's timestampFormat, else rest-json's default: http-date in headers, ISO in URIs, epoch in bodies."""
    explicit = shape.serialization.get("timestampFormat")
    if explicit:
        return str(explicit)
    if location == "header":
        return "rfc822"
    if location in ("querystring", "uri"):
        return "iso8601"
    return "unixTimestamp"


def parse_timestamp(value: object, fmt: str, where: str) -> dt.datetime:
    """A wire timestamp (epoch number or ISO/HTTP-date string) as an aware UTC datetime."""
    try:
        if fmt == "unixTimestamp":
            if isinstance(value, str):
                value = float(value)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError
            micros = int((Decimal(repr(value)) * 1_000_000).to_integral_value(ROUND_HALF_EVEN))
            return EPOCH + dt.timedelta(microseconds=micros)
        if not isinstance(value, str):
            raise TypeError
        if fmt == "rfc822":
            return parsedate_to_datetime(value).astimezone(UTC)
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError, OSError, ArithmeticError):
        raise SerializationException(f"Value at '{where}' is not a valid {fmt} timestamp") from None


def format_timestamp(value: dt.datetime, fmt: str) -> float | int | str:
    """An output timestamp in the member's wire format (naive datetimes are taken as UTC)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    if fmt == "unixTimestamp":
        micros = (aware - EPOCH) // dt.timedelta(microseconds=1)
        return micros // 1_000_000 if micros % 1_000_000 == 0 else micros / 1_000_000
    if fmt == "rfc822":
        return format_datetime(aware.astimezone(UTC), usegmt=True)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def decode_base64(value: object, where: str) -> bytes:
    """A base64 blob from JSON or a header; anything else is a SerializationException naming the member."""
    if not isinstance(value, str):
        raise SerializationException(f"Value at '{where}' must be a base64-encoded string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SerializationException(f"Value at '{where}' is not valid base64") from None


def encode_base64(value: bytes | str) -> str:
    """A blob as base64 text for JSON bodies and headers."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


def parse_text(text: str, shape: Shape, location: str, where: str) -> object:
    """A uri/querystring/header value converted to the member's scalar type."""
    kind = shape.type_name
    if kind == "string":
        return text
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise SerializationException(f"Value '{text}' at '{where}' is not a valid integer") from None
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise SerializationException(f"Value '{text}' at '{where}' is not a valid number") from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise SerializationException(f"Value '{text}' at '{where}' is not a valid boolean")
        return text.lower() == "true"
    if kind == "timestamp":
        return parse_timestamp(text, timestamp_format(shape, location), where)
    if kind == "blob":
        return decode_base64(text, where)
    raise SerializationException(f"Value at '{where}' cannot be read from the {location}")


def format_text(value: object, shape: Shape, location: str) -> str:
    """A scalar output member as header/query text."""
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return str(format_timestamp(value, timestamp_format(shape, location)))
    if kind == "blob" and isinstance(value, (bytes, str)):
        return encode_base64(value)
    return str(value)
