"""The endpoint's HTTP server under client mistakes and hostile clients: bounded, never 5xx, always JSON.

Each test talks raw HTTP (sockets or http.client) to a real endpoint, because what is tested is what
boto3 would never send: a body past its operation's limit, malformed chunked framing, a URI or headers
past the header limit, connections that stall mid-request, unpaired surrogates and 5000-digit versions.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from ahi.emulator.config import EndpointConfig
from ahi.emulator.http_server import ServerLimits
from ahi.emulator.protocol.body_limits import body_limit
from ahi.emulator.server import LocalEndpoint

ROLE = "arn:aws:iam::123456789012:role/ImportRole"


def read_response(sock: socket.socket) -> http.client.HTTPResponse:
    """The response on a raw socket (status, headers, body read)."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.read()
    return response


def json_error(response: http.client.HTTPResponse, body: bytes | None = None) -> tuple[int, str | None, str]:
    return response.status, response.getheader("x-amzn-ErrorType"), json.loads(body if body is not None else b"{}").get("message", "")


def send_and_answer(endpoint: LocalEndpoint, head: bytes, body_part: bytes = b"") -> tuple[http.client.HTTPResponse, bytes]:
    """Send a request head (and part of a body), stop sending, and read the answer."""
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as sock:
        sock.sendall(head + body_part)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response, response.read()


def test_a_content_length_over_the_operation_limit_is_refused_before_the_body_is_read(endpoint: LocalEndpoint) -> None:
    head = (b"POST /datastore HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n")
    response, body = send_and_answer(endpoint, head, b"{" + b" " * 1023)  # 1 KB of the 100 MB it announced
    assert response.status == 413
    assert response.getheader("x-amzn-ErrorType") == "RequestEntityTooLargeException"
    assert response.getheader("Content-Type") == "application/json"
    message = json.loads(body)["message"]
    assert f"{body_limit('CreateDatastore')} bytes CreateDatastore accepts" in message
    assert response.getheader("Connection") == "close"


def test_expect_continue_over_the_limit_is_refused_without_inviting_the_body(endpoint: LocalEndpoint) -> None:
    head = (b"POST /datastore HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\nExpect: 100-continue\r\n\r\n")
    response, _ = send_and_answer(endpoint, head)
    assert response.status == 413  # not 100 Continue first


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(endpoint: LocalEndpoint) -> None:
    limit = body_limit("ListDatastores")
    chunk = b"x" * 16384
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as sock:
        sock.sendall(b"GET /datastore HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        sent = 0
        try:
            while sent < 3 * limit:  # never the terminating chunk: the server must not wait for the end
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except OSError:
            pass  # the server answered and closed before all of it was sent
        response = read_response(sock)
    assert response.status == 413
    assert response.getheader("x-amzn-ErrorType") == "RequestEntityTooLargeException"


@pytest.mark.parametrize(
    ("framing", "message"),
    [
        (b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n", "chunk"),
        (b"Content-Length: 12abc\r\n\r\n{}", "Content-Length"),
        (b"Transfer-Encoding: gzip\r\n\r\n{}", "Transfer-Encoding"),
    ],
    ids=["bad-chunk-size", "bad-content-length", "unknown-transfer-encoding"],
)
def test_malformed_framing_is_a_400_json_error(endpoint: LocalEndpoint, framing: bytes, message: str) -> None:
    response, body = send_and_answer(endpoint, b"POST /datastore HTTP/1.1\r\nHost: x\r\n" + framing)
    assert response.status == 400
    assert response.getheader("x-amzn-ErrorType") == "BadRequestException"
    assert message.lower() in json.loads(body)["message"].lower()


@pytest.mark.parametrize(
    "head",
    [
        b"GET /datastore/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /datastore HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"v" * 1000) for n in range(80)) + b"\r\n",
    ],
    ids=["long-uri", "large-headers"],
)
def test_an_oversized_request_head_is_a_431_json_error(endpoint: LocalEndpoint, head: bytes) -> None:
    response, body = send_and_answer(endpoint, head)
    assert response.status == 431
    assert response.getheader("x-amzn-ErrorType") == "RequestHeaderFieldsTooLargeException"
    assert "65536 bytes" in json.loads(body)["message"]


def test_connections_are_kept_alive(endpoint: LocalEndpoint) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    try:
        ports = []
        for _ in range(3):
            connection.request("GET", "/datastore")
            response = connection.getresponse()
            response.read()
            assert response.status == 200 and response.getheader("Connection") != "close"
            ports.append(connection.sock.getsockname()[1])
        assert len(set(ports)) == 1
    finally:
        connection.close()


@pytest.fixture
def short_timeout_endpoint(tmp_path: Path) -> Iterator[LocalEndpoint]:
    limits = ServerLimits(threads=4, channel_timeout=1, cleanup_interval=1)
    server = LocalEndpoint(EndpointConfig(state_dir=tmp_path / "state"), limits).start()
    try:
        yield server
    finally:
        server.stop()


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except (BlockingIOError, TimeoutError):
        return False


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_stalled_connections_hold_no_thread_and_are_closed_after_the_timeout(short_timeout_endpoint: LocalEndpoint) -> None:
    endpoint = short_timeout_endpoint
    threads_before = threading.active_count()
    stalled = []
    for number in range(60):
        sock = socket.create_connection(("127.0.0.1", endpoint.port), timeout=10)
        if number % 2:  # headers never finished
            sock.sendall(b"POST /datastore HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
        else:  # a body that never comes
            sock.sendall(b"POST /datastore HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n{\"datastoreName\"")
        stalled.append(sock)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
        connection.request("GET", "/datastore")
        assert connection.getresponse().status == 200  # served while 60 others stall
        connection.close()
        assert threading.active_count() - threads_before < 10  # the stalled ones hold sockets, not threads
        for sock in stalled:
            sock.setblocking(False)
        wait_for(lambda: all(closed_by_peer(sock) for sock in stalled), "the stalled connections to be closed")
    finally:
        for sock in stalled:
            sock.close()


# --- no 5xx for client mistakes ------------------------------------------------------------------------


@pytest.fixture
def datastore(endpoint: LocalEndpoint, raw_request: Callable[..., Any]) -> tuple[str, str]:
    created = raw_request("POST", "/datastore", json.dumps({"datastoreName": "limits", "clientToken": "t"}).encode())
    datastore_id = created.json["datastoreId"]
    wait_for(lambda: raw_request("GET", f"/datastore/{datastore_id}").json["datastoreProperties"]["datastoreStatus"] == "ACTIVE",
             "the data store")
    return datastore_id, raw_request("GET", f"/datastore/{datastore_id}").json["datastoreProperties"]["datastoreArn"]


def test_unpaired_surrogates_are_validation_errors_naming_the_member(raw_request: Callable[..., Any], datastore: tuple[str, str]) -> None:
    datastore_id, arn = datastore
    cases = [
        ("POST", f"/tags/{quote(arn, safe='')}", b'{"tags":{"team":"\\ud800"}}', "tags"),
        ("POST", "/datastore", b'{"datastoreName":"a\\udfff","clientToken":"t2"}', "datastoreName"),
        ("POST", f"/startDICOMImportJob/datastore/{datastore_id}",
         json.dumps({"jobName": "j", "dataAccessRoleArn": ROLE, "clientToken": "t", "inputS3Uri": "s3://in/a/",
                     "outputS3Uri": "s3://out/b/"}).replace('"j"', '"j\\ud83d"').encode(), "jobName"),
    ]
    for method, path, body, member in cases:
        answer = raw_request(method, path, body)
        assert (answer.status, answer.error_type) == (400, "ValidationException"), (path[:80], answer.body[:200])
        assert f"at '{member}" in answer.json["message"]


@pytest.mark.parametrize("operation", ["getImageSet", "getImageSetMetadata"])
def test_a_5000_digit_version_is_a_404_not_a_500(raw_request: Callable[..., Any], datastore: tuple[str, str], operation: str) -> None:
    datastore_id, _ = datastore
    answer = raw_request("POST", f"/datastore/{datastore_id}/imageSet/{'a' * 32}/{operation}?version={'9' * 5000}")
    assert (answer.status, answer.error_type) == (404, "ResourceNotFoundException"), answer.body[:200]
    answer = raw_request("POST", f"/datastore/{datastore_id}/imageSet/{'a' * 32}/{operation}?version={'0' * 4990}1")
    assert (answer.status, answer.error_type) == (404, "ResourceNotFoundException"), answer.body[:200]


def test_an_action_or_service_moto_lacks_is_a_4xx_in_its_own_format(raw_request: Callable[..., Any]) -> None:
    kms = raw_request("POST", "/", b"{}", {"X-Amz-Target": "TrentService.Nope", "Content-Type": "application/x-amz-json-1.1"},
                      service="kms")
    assert (kms.status, kms.json["__type"]) == (400, "UnknownOperationException")
    sts = raw_request("POST", "/", b"Action=Nope&Version=2011-06-15", {"Content-Type": "application/x-www-form-urlencoded"},
                      service="sts")
    assert sts.status == 400 and b"<Code>InvalidAction</Code>" in sts.body
    unknown = raw_request("GET", "/x", service="nosuchservice")
    assert (unknown.status, unknown.error_type) == (404, "UnknownOperationException")


def test_stop_survives_its_wake_up_pipe_being_closed_by_other_code(tmp_path: Path) -> None:
    endpoint = LocalEndpoint(EndpointConfig(state_dir=tmp_path / "state")).start()
    port = endpoint.port
    # What a stray close and reuse of the number would leave: the pipe's write end is something else now.
    # (dup2, not close: a number merely closed could be reused by another thread before stop closes it.)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, endpoint._server.trigger.trigger)  # type: ignore[union-attr]  # noqa: SLF001
    os.close(null)
    endpoint.stop()
    with socket.create_server(("127.0.0.1", port)):
        pass  # the port was released


def test_an_empty_put_with_expect_continue_is_answered(s3: Any) -> None:
    s3.create_bucket(Bucket="empty-bodies")
    s3.put_object(Bucket="empty-bodies", Key="empty", Body=b"")  # botocore sends Expect: 100-continue, no body
    assert s3.get_object(Bucket="empty-bodies", Key="empty")["Body"].read() == b""
