"""The local endpoint's own admin calls, under `/_ahi/` (docs/storage-tiers.md#the-endpoint-clock).

Not part of any AWS API: unsigned, answered only to loopback clients, whatever the endpoint binds. No
S3 bucket can be named `_ahi` (bucket names start with a letter or digit) and no HealthImaging route
starts so, so the prefix never shadows a real request.

- `GET /_ahi/clock`: the tiering clock, `{"offsetSeconds", "now", "realNow"}` (times in ISO 8601, UTC).
- `POST /_ahi/clock` with `{"advanceSeconds": N}` (moves it on by N) or `{"offsetSeconds": N}` (sets it):
  the clock afterwards. The offset never goes below 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ahi.emulator.loopback import is_loopback
from ahi.emulator.store import access
from ahi.emulator.timestamps import to_datetime

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ahi.emulator.runtime import Runtime

PREFIX = "/_ahi/"
CLOCK_PATH = "/_ahi/clock"
MAX_BODY_BYTES = 4096
#: A bound that keeps every offset time a valid date (about 100 years).
MAX_OFFSET_SECONDS = 100 * 365 * 86_400.0


class AdminError(Exception):
    """A refused admin call: its HTTP status and message."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AdminApp:
    """WSGI app for `/_ahi/...` on one endpoint runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            if not is_loopback(str(environ.get("REMOTE_ADDR", ""))):
                raise AdminError("403 Forbidden", "admin calls are answered to loopback clients only")
            path = str(environ.get("PATH_INFO", ""))
            if path != CLOCK_PATH:
                raise AdminError("404 Not Found", f"no admin call at {path[:100]}; the only one is {CLOCK_PATH}")
            method = str(environ.get("REQUEST_METHOD", "GET"))
            if method == "POST":
                self._change_clock(_body(environ))
            elif method != "GET":
                raise AdminError("405 Method Not Allowed", f"{CLOCK_PATH} takes GET or POST")
            return _answer(start_response, "200 OK", self._clock())
        except AdminError as error:
            return _answer(start_response, error.status, {"message": error.message})

    def _clock(self) -> dict[str, Any]:
        real_now = self.runtime.now()
        with self.runtime.store.read() as conn:
            offset = access.clock_offset(conn)
        return {
            "offsetSeconds": offset,
            "now": _iso(real_now + offset),
            "realNow": _iso(real_now),
        }

    def _change_clock(self, body: dict[str, Any]) -> None:
        if set(body) not in ({"advanceSeconds"}, {"offsetSeconds"}):
            raise AdminError("400 Bad Request", 'send exactly one of {"advanceSeconds": N} or {"offsetSeconds": N}')
        (name, value), = body.items()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise AdminError("400 Bad Request", f"{name} must be a number of seconds")
        with self.runtime.store.transaction() as tx:
            offset = access.clock_offset(tx) + value if name == "advanceSeconds" else float(value)
            if not 0 <= offset <= MAX_OFFSET_SECONDS:
                raise AdminError(
                    "400 Bad Request", f"the clock offset would be {offset:g} s; it must stay between 0 and {MAX_OFFSET_SECONDS:g}"
                )
            access.set_clock_offset(tx, offset)


def _body(environ: WSGIEnvironment) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if not 0 <= length <= MAX_BODY_BYTES:
        raise AdminError("400 Bad Request", f"the body must be a JSON object of at most {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AdminError("400 Bad Request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise AdminError("400 Bad Request", "the body must be a JSON object")
    return body


def _iso(seconds: float) -> str:
    moment = to_datetime(seconds)
    assert moment is not None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _answer(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode("utf-8")
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
