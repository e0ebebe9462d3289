"""Render an operation's output dict, or an error, as a rest-json HTTP response."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from botocore.model import OperationModel, Shape
from werkzeug.wrappers import Response

from ahi.emulator.protocol.shapes import encode_base64, format_text, format_timestamp, timestamp_format

JSON_TYPE = "application/json"
STREAM_CHUNK = 64 * 1024


@dataclass(frozen=True)
class BlobStream:
    """A streaming blob payload a handler returns instead of bytes; `length` gives an exact Content-Length."""

    chunks: Iterable[bytes]
    length: int | None = None


def serialize_response(operation: OperationModel, output: Mapping[str, Any], request_id: str) -> Response:
    """Header members to headers, a blob payload as the raw body, everything else as a JSON body."""
    shape = operation.output_shape
    status = int(operation.http.get("responseCode", 200))
    headers: dict[str, str] = {"x-amzn-RequestId": request_id}
    if shape is None:
        return Response(b"{}", status=status, headers=headers, content_type=JSON_TYPE)
    body_members: dict[str, Any] = {}
    for name, member in shape.members.items():
        value = output.get(name)
        if value is None:
            continue
        location = member.serialization.get("location")
        if location == "header":
            headers[member.serialization.get("name", name)] = format_text(value, member, "header")
        elif location == "headers":
            prefix = member.serialization.get("name", "")
            headers.update({f"{prefix}{k}": str(v) for k, v in value.items()})
        elif location == "statusCode":
            status = int(value)
        elif location is None:
            body_members[name] = value
    payload = shape.serialization.get("payload")
    if payload is None:
        body = json.dumps(_json_members(body_members, shape.members)).encode("utf-8")
        headers.setdefault("Content-Type", JSON_TYPE)
        return Response(body, status=status, headers=headers)
    member = shape.members[payload]
    value = body_members.get(payload)
    if member.type_name in ("blob", "string"):
        return _raw_payload(value, status, headers)
    headers.setdefault("Content-Type", JSON_TYPE)
    body = json.dumps(_json_value(value, member) if value is not None else {}).encode("utf-8")
    return Response(body, status=status, headers=headers)


def error_response(code: str, message: str, status: int, request_id: str) -> Response:
    """`x-amzn-ErrorType` plus a non-empty JSON body: what makes boto3 raise `client.exceptions.<code>`."""
    body = json.dumps({"message": message}).encode("utf-8")
    headers = {"x-amzn-ErrorType": code, "x-amzn-RequestId": request_id, "Content-Type": JSON_TYPE}
    return Response(body, status=status, headers=headers)


def _raw_payload(value: object, status: int, headers: dict[str, str]) -> Response:
    """A blob payload as the body itself: bytes, a BlobStream, or a readable file object."""
    headers.setdefault("Content-Type", "application/octet-stream")
    if value is None:
        return Response(b"", status=status, headers=headers)
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Response(bytes(value), status=status, headers=headers)
    stream = value if isinstance(value, BlobStream) else BlobStream(_read_chunks(value))  # type: ignore[arg-type]
    if stream.length is not None:
        headers["Content-Length"] = str(stream.length)
    return Response(iter(stream.chunks), status=status, headers=headers, direct_passthrough=True)


def _read_chunks(fileobj: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := fileobj.read(STREAM_CHUNK):
            yield chunk
    finally:
        close = getattr(fileobj, "close", None)
        if close is not None:
            close()


def _json_members(values: Mapping[str, Any], members: Mapping[str, Shape]) -> dict[str, Any]:
    return {
        members[name].serialization.get("name", name): _json_value(value, members[name])
        for name, value in values.items()
        if name in members and value is not None
    }


def _json_value(value: Any, shape: Shape) -> Any:
    """A Python output value in its JSON wire form: epoch-second timestamps, base64 blobs."""
    kind = shape.type_name
    if kind == "structure" and not shape.is_document_type:
        return _json_members(value, shape.members)
    if kind == "list":
        return [_json_value(item, shape.member) for item in value]
    if kind == "map":
        return {k: _json_value(v, shape.value) for k, v in value.items() if v is not None}
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return format_timestamp(value, timestamp_format(shape, None))
    if kind == "blob":
        return encode_base64(value)
    return value
