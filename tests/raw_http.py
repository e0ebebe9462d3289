"""One HTTP request to the local endpoint exactly as given (raw path, optional SigV4): for what boto3 would refuse to send.

A module of its own so test files import it by a unique name (several folders have a `conftest`).
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ahi.emulator.server import LocalEndpoint

REGION = "us-east-1"
ACCESS_KEY = "AKIDLOCALTEST"
SECRET_KEY = "local-test-secret"


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_type(self) -> str | None:
        return self.headers.get("x-amzn-errortype")


def send_raw(
    endpoint: LocalEndpoint,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    sign: bool = True,
    service: str = "medical-imaging",
    access_key: str = ACCESS_KEY,
    secret: str = SECRET_KEY,
    host: str | None = None,
) -> RawResponse:
    """Send one request byte for byte (path as given), signed by botocore's SigV4Auth unless `sign=False`."""
    host_header = host or f"127.0.0.1:{endpoint.port}"
    all_headers = {"Host": host_header, **(headers or {})}
    if body and "Content-Type" not in all_headers:
        all_headers["Content-Type"] = "application/json"
    if sign:
        request = AWSRequest(method=method, url=f"http://{host_header}{path}", data=body, headers=all_headers)
        SigV4Auth(Credentials(access_key, secret), service, REGION).add_auth(request)
        all_headers = dict(request.headers.items())
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in all_headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()
