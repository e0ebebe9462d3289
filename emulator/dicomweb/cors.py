"""CORS for the DICOMweb routes, so a viewer served from another origin can call them (docs/dicomweb.md#browsers-cors).

AWS's OHIF installer has the browser call DICOMweb directly. Preflights (`OPTIONS` with
`Access-Control-Request-Method`) are answered here, unsigned; every other DICOMweb response to a
request with an `Origin` carries the headers a browser needs to hand it to the page, errors included.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.datastructures import EnvironHeaders
from werkzeug.wrappers import Response

from ahi.emulator.dispatcher import RoutedApp

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: Request headers a signed or bearer DICOMweb call sends; any other `x-amz-*` or `amz-sdk-*` one is allowed too.
ALLOWED_HEADERS = (
    "Authorization",
    "Accept",
    "Content-Type",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
    "X-Amz-Decoded-Content-Length",
    "X-Amz-User-Agent",
)
_ALLOWED_PREFIXES = ("x-amz-", "amz-sdk-")
ALLOWED_METHODS = "GET, POST, OPTIONS"
#: Response headers a page may read: the request id and error type name what went wrong.
EXPOSED_HEADERS = "x-amzn-RequestId, x-amzn-ErrorType, Content-Type, Content-Length, Content-Location"
MAX_AGE_SECONDS = "600"


def _origin_headers(origin: str) -> list[tuple[str, str]]:
    """The origin is echoed (not `*`), so a page that sends credentials is served as well as one that does not."""
    return [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
        ("Vary", "Origin"),
    ]


def _allowed_request_headers(requested: str) -> str:
    """The fixed list, plus whichever requested `x-amz-*` / `amz-sdk-*` headers it lacks."""
    known = {name.lower() for name in ALLOWED_HEADERS}
    extra = [
        name.strip()
        for name in requested.split(",")
        if name.strip() and name.strip().lower() not in known and name.strip().lower().startswith(_ALLOWED_PREFIXES)
    ]
    return ", ".join([*ALLOWED_HEADERS, *extra])


class Cors:
    """Wraps the DICOMweb app: answers preflights for its paths and adds CORS headers to its responses."""

    def __init__(self, app: RoutedApp) -> None:
        self.app = app

    def matches(self, method: str, path: str) -> bool:
        return self.app.matches(method, path)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        headers = EnvironHeaders(environ)
        origin = headers.get("Origin")
        if environ.get("REQUEST_METHOD") == "OPTIONS" and headers.get("Access-Control-Request-Method"):
            return self._preflight(headers, origin)(environ, start_response)
        if not origin:
            return self.app(environ, start_response)

        def with_cors(status: str, response_headers: list[tuple[str, str]], exc_info: object = None) -> object:
            names = {name.lower() for name, _ in response_headers}
            added = [(name, value) for name, value in _origin_headers(origin) if name.lower() not in names]
            return start_response(status, [*response_headers, *added], exc_info)  # type: ignore[arg-type]

        return self.app(environ, with_cors)  # type: ignore[arg-type]

    def _preflight(self, headers: EnvironHeaders, origin: str | None) -> Response:
        """204 with the methods and request headers DICOMweb takes; the browser checks its request against them."""
        response = Response(status=204)
        if origin:
            for name, value in _origin_headers(origin):
                response.headers[name] = value
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = _allowed_request_headers(
            headers.get("Access-Control-Request-Headers", "")
        )
        response.headers["Access-Control-Max-Age"] = MAX_AGE_SECONDS
        return response
