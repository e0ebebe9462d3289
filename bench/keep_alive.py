"""An HTTP/1.1 keep-alive request handler for the local endpoint, to measure what `Connection: close` costs.

Werkzeug 3.1's threaded server already speaks HTTP/1.1 (`make_server` sets `protocol_version` when
threaded), but `WSGIRequestHandler.run_wsgi` always sends `Connection: close` and, after every
response, drains the socket for up to 10 ms ("since we know that write closes every connection we can
read everything"). Setting `protocol_version` therefore changes nothing: keeping connections open
needs a `run_wsgi` that sends a Content-Length, reads exactly the request body it was given, and never
drains. This one buffers each response (the endpoint's are small), which is fine for a measurement.
"""

from __future__ import annotations

import socket
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.wsgi import LimitedStream


class KeepAliveRequestHandler(MotoRequestHandler):
    """Serve many requests per connection; close only when the client asks or the request was chunked."""

    def setup(self) -> None:
        super().setup()
        # Without this, headers and body leave as two small segments and Nagle's algorithm meets the
        # client's delayed ACK: ~40 ms per response. A closing server never sees it (close flushes).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        body_stream: LimitedStream | None = None
        if not chunked:
            body_stream = LimitedStream(self.rfile, int(self.headers.get("Content-Length") or 0))
            environ["wsgi.input"] = body_stream
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.update(status=status, headers=headers)
            return lambda data: None

        try:
            result = self.server.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                getattr(result, "close", lambda: None)()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            return
        except Exception:  # noqa: BLE001 - as Werkzeug does: a 500, then the connection closes
            self.close_connection = True
            self.send_error(500)
            return
        if body_stream is not None:
            body_stream.exhaust()  # the next request line must be the next thing read
        code, _, reason = started["status"].partition(" ")
        self.send_response(int(code), reason)
        for name, value in started["headers"]:
            if name.lower() in ("connection", "content-length", "transfer-encoding"):
                continue
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if chunked:
            self.send_header("Connection", "close")
        if environ["REQUEST_METHOD"] != "HEAD":
            self._headers_buffer.append(b"\r\n" + body)  # headers and body in one write
        else:
            self._headers_buffer.append(b"\r\n")
        self.flush_headers()
