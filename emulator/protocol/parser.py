"""Read a rest-json request into the operation's input dict, each member from its model location."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, Shape, StructureShape
from werkzeug.datastructures import Headers, MultiDict

from ahi.emulator.errors import SerializationException
from ahi.emulator.protocol.shapes import decode_base64, parse_text, parse_timestamp, timestamp_format

#: Digit-only members (model pattern `\d+`: version ids) are numbers to the service.
DIGITS_PATTERN = r"\d+"
_ASCII_DIGITS = re.compile("[0-9]+")
#: Longer digit strings read as BEYOND_LONG: no version has such a number, and int() of them is refused
#: (over 4300 digits, a ValueError) or slow. Shorter ones pass as sent (botocore round-trips them).
MAX_NUMBER_DIGITS = 1000
BEYOND_LONG = str(2**63)


def parse_request(
    operation: OperationModel,
    labels: Mapping[str, str],
    query: MultiDict[str, str],
    headers: Headers,
    body: bytes,
) -> dict[str, Any]:
    """The input members found in the URI labels, query string, headers and body of one request."""
    shape = operation.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    bound_query: set[str] = set()
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri" and wire in labels:
            params[name] = bounded_number(parse_text(labels[wire], member, "uri", name), member)
        elif location == "querystring" and member.type_name == "map":
            continue
        elif location == "querystring" and wire in query:
            bound_query.add(wire)
            values = query.getlist(wire)
            if member.type_name == "list":
                params[name] = [parse_text(v, member.member, "querystring", name) for v in values]
            else:
                params[name] = bounded_number(parse_text(values[0], member, "querystring", name), member)
        elif location == "header" and wire in headers:
            params[name] = bounded_number(parse_text(headers[wire], member, "header", name), member)
        elif location == "headers":
            prefix = wire.lower()
            found = {k[len(prefix):]: v for k, v in headers.items() if k.lower().startswith(prefix)}
            if found:
                params[name] = found
    for name, member in shape.members.items():
        if member.serialization.get("location") == "querystring" and member.type_name == "map":
            rest = {k: query.getlist(k) for k in query if k not in bound_query}
            if rest:
                many = member.value.type_name == "list"
                params[name] = {k: (v if many else v[0]) for k, v in rest.items()}
    params.update(_parse_body(shape, body))
    return params


def _parse_body(shape: StructureShape, body: bytes) -> dict[str, Any]:
    """The payload member (raw blob/string or JSON structure), or the JSON body's non-located members."""
    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        if member.type_name == "blob":
            return {payload: body}
        if member.type_name == "string":
            return {payload: body.decode("utf-8")} if body else {}
        if not body:
            return {}
        return {payload: read_json_value(_load_json(body), member, payload)}
    if not body or not body.strip():
        return {}
    document = _load_json(body)
    if not isinstance(document, dict):
        raise SerializationException("The request body must be a JSON object")
    body_members = {
        name: member for name, member in shape.members.items() if "location" not in member.serialization
    }
    return _read_members(document, body_members, "")


def _load_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SerializationException(f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise SerializationException("The request body nests JSON arrays or objects too deeply") from None


def _read_members(document: Mapping[str, Any], members: Mapping[str, Shape], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in members.items():
        value = document.get(member.serialization.get("name", name))
        if value is not None:
            out[name] = read_json_value(value, member, f"{prefix}{name}")
    return out


def read_json_value(value: object, shape: Shape, where: str) -> Any:
    """One JSON value as the Python form of its shape (datetime, bytes, int, ...); a type mismatch names the member."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _type_error(where, "an object")
        if shape.is_document_type:
            return value
        return _read_members(value, shape.members, f"{where}.")
    if kind == "list":
        if not isinstance(value, list):
            raise _type_error(where, "a list")
        return [read_json_value(item, shape.member, f"{where}.{i + 1}.member") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise _type_error(where, "a map")
        return {k: read_json_value(v, shape.value, f"{where}.{k}") for k, v in value.items() if v is not None}
    if kind == "string":
        if not isinstance(value, str):
            raise _type_error(where, "a string")
        return bounded_number(value, shape)
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(where, "an integer")
        return value
    if kind in ("float", "double"):
        if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(where, "a number")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _type_error(where, "a boolean")
        return value
    if kind == "timestamp":
        return parse_timestamp(value, timestamp_format(shape, None), where)
    if kind == "blob":
        return decode_base64(value, where)
    return value


def bounded_number(value: Any, shape: Shape) -> Any:
    """A digit-only member's text; past MAX_NUMBER_DIGITS digits, without its leading zeros or read as 2**63.

    Handlers turn version ids into ints; Python refuses int() of over 4300 digits (a ValueError, so a
    500 before this) and spends quadratic time below that. Every such number names no version, as 2**63 does.
    """
    if (
        isinstance(value, str)
        and len(value) > MAX_NUMBER_DIGITS
        and shape.metadata.get("pattern") == DIGITS_PATTERN
        and _ASCII_DIGITS.fullmatch(value)
    ):
        significant = value.lstrip("0")
        return BEYOND_LONG if len(significant) > MAX_NUMBER_DIGITS else significant or "0"
    return value


def _type_error(where: str, expected: str) -> SerializationException:
    return SerializationException(f"Value at '{where}' must be {expected}")
