"""The wire contract without HTTP, for every operation of the model.

botocore's own serializer writes requests from generated inputs (every member, every location) and our
router + parser must recover exactly that input; botocore's own parser reads our serializer's output for
generated outputs and must recover exactly those values.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.model import OperationModel, Shape
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import Headers, MultiDict

from ahi.emulator.model import service_model
from ahi.emulator.protocol.parser import parse_request
from ahi.emulator.protocol.router import OperationRouter
from ahi.emulator.protocol.serializer import serialize_response
from ahi.emulator.protocol.validate import compile_pattern, validate_input

MODEL = service_model()
OPERATIONS = sorted(MODEL.operation_names)
ROUTER = OperationRouter(MODEL)
ENDPOINT = "http://127.0.0.1:4599"
#: Keeps generated lists, maps and free text small; limits are still honoured.
SMALL = 3
SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def every_operation(test: Callable[..., None]) -> Callable[..., None]:
    """Run a property test for each operation, once with every member set and once sparse."""
    test = given(data=st.data())(test)
    test = SETTINGS(test)
    test = pytest.mark.parametrize("name", OPERATIONS)(test)
    return pytest.mark.parametrize("full", [True, False], ids=["every-member", "sparse"])(test)


def shape_strategy(shape: Shape, full: bool, location: str | None = None) -> st.SearchStrategy[Any]:
    """Values valid for `shape`; `full` sets every member of every structure (one for unions)."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        members = {
            name: shape_strategy(member, full, member.serialization.get("location"))
            for name, member in shape.members.items()
        }
        if meta.get("union"):
            return st.one_of([st.fixed_dictionaries({name: s}) for name, s in members.items()])
        required = set(shape.required_members)
        if full:
            return st.fixed_dictionaries(members)
        return st.fixed_dictionaries(
            {n: s for n, s in members.items() if n in required},
            optional={n: s for n, s in members.items() if n not in required},
        )
    if kind in ("list", "map"):
        # An empty list in the query string has no wire form at all, so it cannot round-trip.
        low = max(meta.get("min", 0), 1 if location == "querystring" else 0)
        high = max(low, min(meta.get("max", SMALL), SMALL))
        if kind == "list":
            return st.lists(shape_strategy(shape.member, full), min_size=low, max_size=high)
        return st.dictionaries(shape_strategy(shape.key, full), shape_strategy(shape.value, full), min_size=low, max_size=high)
    if kind == "string":
        return string_strategy(shape, location)
    if kind in ("integer", "long"):
        return st.integers(min_value=meta.get("min", -(2**31)), max_value=meta.get("max", 2**31 - 1))
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        low = meta.get("min", 0)
        return st.binary(min_size=low, max_size=max(low, min(meta.get("max", 64), 64)))
    if kind == "timestamp":
        return st.datetimes(
            min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.timezone.utc)
        )
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    raise AssertionError(f"no strategy for {kind}")


def string_strategy(shape: Shape, location: str | None = None) -> st.SearchStrategy[str]:
    if shape.enum:
        return st.sampled_from(shape.enum)
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 10_000)
    if location == "header":  # HTTP carries visible ASCII, trimmed
        return st.from_regex(r"[!-~]([ -~]{0,18}[!-~])?", fullmatch=True)
    pattern = shape.metadata.get("pattern")
    single = re.fullmatch(r"(\[[^\]]*\]|\\[dw])[+*]", pattern or "")
    if single:  # `\d+` with min=max=12: bound the repetition rather than filter almost everything out
        pattern = f"{single.group(1)}{{{max(low, 1)},{max(low, 1, min(high, low + 20))}}}"
    if pattern:
        return st.from_regex(compile_pattern(pattern), fullmatch=True).filter(lambda s: low <= len(s) <= high)
    return st.text(min_size=low, max_size=max(low, min(high, 20)))


def send_through_botocore(params: dict[str, Any], operation: OperationModel) -> tuple[str, str, Headers, bytes]:
    """Method, URL, headers and body exactly as botocore would put them on the wire."""
    request = create_serializer("rest-json", include_validation=True).serialize_to_request(params, operation)
    prepare_request_dict(request, endpoint_url=ENDPOINT)
    prepared = create_request_object(request).prepare()
    body = prepared.body or b""
    return prepared.method, prepared.url, Headers(list(prepared.headers.items())), body if isinstance(body, bytes) else body.encode()


@every_operation
def test_botocore_request_is_recovered_by_our_router_and_parser(name: str, full: bool, data: st.DataObject) -> None:
    operation = MODEL.operation_model(name)
    params = data.draw(shape_strategy(operation.input_shape, full), label="input")
    method, url, headers, body = send_through_botocore(params, operation)
    split = urlsplit(url)
    query = MultiDict(parse_qsl(split.query, keep_blank_values=True))
    matched, labels = ROUTER.match(method, split.path, frozenset(query.keys()))
    assert matched.name == name
    expected = dict(params)
    payload = operation.input_shape.serialization.get("payload")
    if payload and payload not in params and body == b"{}":
        expected[payload] = {}  # botocore writes an absent payload structure as `{}`: the wire cannot tell them apart
    assert parse_request(matched, labels, query, headers, body) == expected
    validate_input(operation.input_shape, params)


@every_operation
def test_our_response_is_read_back_by_botocore(name: str, full: bool, data: st.DataObject) -> None:
    operation = MODEL.operation_model(name)
    output = data.draw(shape_strategy(operation.output_shape, full), label="output")
    response = serialize_response(operation, output, "request-1")
    headers = HeadersDict(response.headers.items())
    body: Any = response.get_data()
    if operation.has_streaming_output:  # as botocore's endpoint hands it over: a StreamingBody checked against Content-Length
        body = StreamingBody(io.BytesIO(body), int(headers["Content-Length"]))
    parsed = create_parser("rest-json").parse(
        {"status_code": response.status_code, "headers": headers, "body": body}, operation.output_shape
    )
    assert parsed.pop("ResponseMetadata")["RequestId"] == "request-1"
    expected = dict(output)
    payload = operation.output_shape.serialization.get("payload")
    if operation.has_streaming_output:
        parsed[payload] = parsed[payload].read()
        expected.setdefault("contentType", "application/octet-stream")
        expected.setdefault(payload, b"")
    assert parsed == expected


def test_every_operation_is_generated_and_routed() -> None:
    assert len(OPERATIONS) == 18
    for name in OPERATIONS:
        http = MODEL.operation_model(name).http
        path = http["requestUri"].replace("{", "").replace("}", "").replace("+", "")
        assert ROUTER.match(http["method"], path)[0].name == name


def test_streaming_metadata_blob_keeps_gzip_headers() -> None:
    operation = MODEL.operation_model("GetImageSetMetadata")
    output = {"imageSetMetadataBlob": b"\x1f\x8b\x08gz", "contentType": "application/json", "contentEncoding": "gzip"}
    response = serialize_response(operation, output, "r")
    assert response.get_data() == b"\x1f\x8b\x08gz"
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Length"] == "5"
