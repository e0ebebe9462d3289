"""The endpoint's HTTP server: waitress, with a body limit per operation, JSON errors and moto's header spelling.

waitress reads every request on one asynchronous loop and hands only complete ones to a fixed pool of
threads, so a stalled or slow client holds a socket, never a thread, until `channel_timeout` closes it.
What this module adds (docs/server.md):

- each request's body limit is decided from its headers (signing service, operation), and a body over
  it is refused with 413 before it is read (Content-Length) or as soon as it passes it (chunked);
- the errors waitress answers itself (body or headers too large, malformed chunked framing, a bad
  header line) are JSON as the service answers, or S3's XML for requests signed for S3, never 5xx;
- `x-amz-meta-` headers keep an underscore in their names for moto, as its own request handler does;
- the connection is in the environ as `werkzeug.socket`, for the fault injector's dropped connections.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HEADER_FIELD_RE, HTTPRequestParser, get_header_lines
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import (
    BadRequest,
    Error,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    ServerNotImplemented,
)

from ahi.emulator.dicomweb.gate_rules import is_store_request
from ahi.emulator.dicomweb.stow_body import MAX_BODY_BYTES
from ahi.emulator.errors import UnknownOperationException
from ahi.emulator.model import SERVICE_NAME
from ahi.emulator.protocol.body_limits import FLOOR, body_limit
from ahi.emulator.protocol.router import raw_path, service_router
from ahi.emulator.protocol.sigv4 import scope_from_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger("ahi.emulator.http")
#: moto's environ key for the original spelling of underscored `x-amz-meta-` headers.
PRESERVED_NAMES_KEY = "moto.preserved_header_names"
META_PREFIX = b"x-amz-meta-"


@dataclass(frozen=True)
class ServerLimits:
    """What one client may cost the endpoint; the defaults are `ahi local`'s (docs/server.md)."""

    #: Worker threads: requests served at once. The endpoint is CPU-bound past 2 cores' worth.
    threads: int = 8
    #: Open connections at once; past it new ones wait in the listen backlog.
    connection_limit: int = 1000
    #: Seconds a connection may stay silent (idle, or mid-request) before it is closed.
    channel_timeout: int = 30
    #: Seconds between sweeps for silent connections.
    cleanup_interval: int = 5
    #: Bytes of request line plus headers.
    max_header_bytes: int = 64 * 1024
    #: Body limit of a request for moto's services (S3 PutObject, UploadPart, ...). Larger objects go
    #: through multipart upload, as the AWS CLI and boto3's upload_file do on their own past 8 MB.
    other_body_bytes: int = 256 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    """Who a request is for, as far as its headers tell: decides its body limit and its error format."""

    #: "rest-json" (medical-imaging and the default), "json" (X-Amz-Target services) or "s3".
    protocol: str
    operation: str | None
    body_limit: int


def classify(method: str, request_uri: str, headers: dict[str, str], query: str, limits: ServerLimits) -> Target:
    """The request's target, decided as the dispatcher will route it (emulator/dispatcher.py)."""
    scope = scope_from_headers(headers.get("AUTHORIZATION", ""), query)
    service = scope.service if scope else None
    target_header = bool(headers.get("X_AMZ_TARGET"))
    router = service_router()
    path = raw_path({"REQUEST_URI": request_uri})
    ours = service == SERVICE_NAME or (service is None and not target_header and router.matches(method, path))
    if (service == SERVICE_NAME or (service is None and not target_header)) and is_store_request(method, path):
        return Target("rest-json", "StoreDICOM", MAX_BODY_BYTES)  # up to 1 GB (docs/dicomweb.md#stow-rs)
    if ours:
        try:
            operation = router.match(method, path, query_keys=None)[0].name
        except UnknownOperationException:  # refused later; its body need not be read
            return Target("rest-json", None, FLOOR)
        return Target("rest-json", operation, body_limit(operation))
    protocol = "json" if target_header else "s3" if service in ("s3", None) else "rest-json"
    return Target(protocol, None, limits.other_body_bytes)


class _BodyLimitAdjustments:
    """The server's Adjustments with one request's body limit in place of the global one."""

    def __init__(self, adj: Adjustments, limit: int) -> None:
        self._adj = adj
        # waitress refuses at `>= max_request_body_size`; the limit itself is allowed.
        self.max_request_body_size = limit + 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adj, name)


class EndpointRequestParser(HTTPRequestParser):
    """waitress's parser, plus the target and body limit of the request and the underscored meta headers."""

    limits: ServerLimits = ServerLimits()
    target: Target | None = None
    preserved_names: dict[str, str] | None = None

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        self.preserved_names = self._keep_underscored_meta(header_plus)
        self.target = classify(self.command, self.request_uri, self.headers, self.query, self.limits)
        self.adj = _BodyLimitAdjustments(self.adj, self.target.body_limit)  # type: ignore[assignment]
        if self.content_length > self.target.body_limit or (self.content_length == 0 and not self.chunked):
            # Refused now, or no body to invite: waitress would send 100 Continue and then wait for a
            # body that never comes (botocore sends `Expect: 100-continue` on an empty S3 PUT too).
            self.expect_continue = False

    def _keep_underscored_meta(self, header_plus: bytes) -> dict[str, str]:
        """`x-amz-meta-my_key` as moto's handler keeps it (waitress drops underscored names).

        An underscored name never stands in for a dashed one that folds to the same environ key.
        """
        lines = get_header_lines(header_plus.partition(b"\r\n")[2])
        dashed = set(self.headers)
        names: dict[str, str] = {}
        for line in lines:
            match = HEADER_FIELD_RE.match(line)
            if not match:
                continue
            name, value = match.group("name", "value")
            if b"_" not in name or not name.lower().startswith(META_PREFIX):
                continue
            key = name.upper().replace(b"-", b"_").decode("latin-1")
            if key in dashed:
                continue
            text = value.strip(b" \t").decode("latin-1")
            environ_key = "HTTP_" + key
            self.headers[key] = f"{self.headers[key]},{text}" if environ_key in names else text
            names.setdefault(environ_key, name.decode("latin-1"))
        return names


class EndpointTask(WSGITask):
    """The WSGI task, with moto's preserved header names and the connection in the environ."""

    def get_environment(self) -> dict[str, Any]:
        if self.environ is not None:
            return self.environ  # type: ignore[no-any-return]
        environ: dict[str, Any] = super().get_environment()
        names = getattr(self.request, "preserved_names", None)
        if names:
            environ[PRESERVED_NAMES_KEY] = names
        environ["werkzeug.socket"] = self.channel.socket
        return environ

    def build_response_header(self) -> bytes:
        """waitress's header block with each name spelled as the app gave it.

        waitress capitalizes every name (`x-amz-meta-my_key` -> `X-Amz-Meta-My_key`), and botocore reads
        an S3 metadata key's case from the header name, so the key would come back changed.
        """
        spelled = {_capitalized(name): name for name, _ in self.response_headers}
        block: bytes = super().build_response_header()
        status, *lines = block[:-4].split(b"\r\n")
        restored = []
        for line in lines:
            name, _, value = line.partition(b": ")
            restored.append(spelled.get(name.decode("latin-1"), name.decode("latin-1")).encode("latin-1") + b": " + value)
        return b"\r\n".join([status, *restored]) + b"\r\n\r\n"


def _capitalized(name: str) -> str:
    """How waitress spells a response header name."""
    return "-".join(part.capitalize() for part in name.split("-"))


#: waitress's own refusals: (status, JSON code, S3 code) by error class, most specific first.
_REFUSALS: list[tuple[type[Error], int, str, str]] = [
    (RequestEntityTooLarge, 413, "RequestEntityTooLargeException", "EntityTooLarge"),
    (RequestHeaderFieldsTooLarge, 431, "RequestHeaderFieldsTooLargeException", "RequestHeaderSectionTooLarge"),
    (ServerNotImplemented, 400, "BadRequestException", "NotImplemented"),
    (BadRequest, 400, "BadRequestException", "IncompleteBody"),
]


def refusal(error: Error, target: Target | None, limits: ServerLimits) -> tuple[int, str, str]:
    """Status, code and message for an error waitress found in the request itself; 500 only for ours."""
    for kind, status, json_code, s3_code in _REFUSALS:
        if isinstance(error, kind):
            code = s3_code if target is not None and target.protocol == "s3" else json_code
            return status, code, _message(error, target, limits)
    return 500, "InternalServerException", "An internal error occurred; the endpoint's log has its frames."


def _message(error: Error, target: Target | None, limits: ServerLimits) -> str:
    if isinstance(error, RequestEntityTooLarge):
        what = target.operation if target is not None and target.operation else "this request"
        limit = target.body_limit if target is not None else FLOOR
        return f"The request body is larger than the {limit} bytes {what} accepts on this endpoint."
    if isinstance(error, RequestHeaderFieldsTooLarge):
        return f"The request line and headers are larger than the {limits.max_header_bytes} bytes this endpoint accepts."
    if isinstance(error, ServerNotImplemented):
        return "Transfer-Encoding must be chunked or absent."
    return f"The request is malformed: {error.body}."


class EndpointErrorTask(ErrorTask):
    """An error waitress found before the app ran, in the format of the service the request was for."""

    def execute(self) -> None:
        error = self.request.error
        # Past the header limit waitress parses a stand-in request line: nothing is known of the target.
        target: Target | None = None if isinstance(error, RequestHeaderFieldsTooLarge) else getattr(self.request, "target", None)
        limits = getattr(self.request, "limits", ServerLimits())
        status, code, message = refusal(error, target, limits)
        request_id = str(uuid.uuid4())
        if target is not None and target.protocol == "s3":
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{code}</Code><Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
            ).encode()
            self.response_headers.extend([("Content-Type", "application/xml"), ("x-amz-request-id", request_id)])
        else:
            document = {"__type": code, "message": message} if target is not None and target.protocol == "json" else {"message": message}
            body = json.dumps(document).encode()
            self.response_headers.extend(
                [("Content-Type", "application/json"), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
            )
        self.status = f"{status} {_REASONS.get(status, 'Error')}"
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


_REASONS = {400: "Bad Request", 413: "Request Entity Too Large", 431: "Request Header Fields Too Large",
            500: "Internal Server Error"}


class EndpointServer(TcpWSGIServer):
    """waitress's TCP server with the endpoint's parser and tasks; stopped from any thread by `stop()`."""

    def __init__(self, app: WSGIApplication, host: str, port: int, limits: ServerLimits) -> None:
        adj = Adjustments(
            host=host,
            port=port,
            threads=limits.threads,
            connection_limit=limits.connection_limit,
            channel_timeout=limits.channel_timeout,
            cleanup_interval=limits.cleanup_interval,
            max_request_header_size=limits.max_header_bytes,
            max_request_body_size=max(limits.other_body_bytes, FLOOR) + 1,
            asyncore_use_poll=True,  # select() stops at descriptor 1024; a connection limit of 1000 needs poll
            log_socket_errors=False,  # a client that goes away is not the endpoint's error
            ident="ahi-local-endpoint",
            clear_untrusted_proxy_headers=False,
        )
        parser = type("Parser", (EndpointRequestParser,), {"limits": limits})
        self.channel_class = type(
            "Channel", (HTTPChannel,), {"parser_class": parser, "task_class": EndpointTask, "error_task_class": EndpointErrorTask}
        )
        self.limits = limits
        self._trigger_lock = threading.Lock()
        self._closing = False
        super().__init__(app, map={}, adj=adj, sockinfo=adj.listen[0])
        pipe = os.fstat(self.trigger.trigger)
        self._trigger_identity = (pipe.st_dev, pipe.st_ino)
        self.trigger._close = self._close_trigger  # type: ignore[method-assign]
        self._loop: threading.Thread | None = None

    @property
    def app(self) -> WSGIApplication:
        """The WSGI app served (the dispatcher)."""
        return self.application  # type: ignore[no-any-return]

    @property
    def server_address(self) -> tuple[str, int]:
        return str(self.effective_host), int(self.effective_port)

    def start(self, name: str) -> None:
        """Serve on a daemon thread."""
        self._loop = threading.Thread(target=self.run, name=name, daemon=True)
        self._loop.start()

    def stop(self, join_seconds: float) -> None:
        """Let the worker threads finish the requests they run, then have the loop close this server's descriptors.

        In that order: a worker still running after its descriptors were closed would wake the loop
        through a descriptor number the next server (or a database file) may already have been given.
        The closing happens on the loop's own thread (`readable`), never beside it (docs/server.md).
        """
        self.task_dispatcher.shutdown(cancel_pending=True, timeout=join_seconds)
        with self._trigger_lock:
            self._closing = True
            self._wake()  # a pipe no longer ours is not pulled: the loop then closes at its poll timeout
        loop = self._loop
        if loop is not None and loop is not threading.current_thread():
            loop.join(join_seconds)
        if loop is None or not loop.is_alive():
            wasyncore.close_all(self._map, ignore_all=True)  # no loop to do it (never started, or ended)

    def readable(self) -> bool:
        """Asked by the loop on each turn; a stopping server closes everything in its own map here."""
        if self._closing:
            wasyncore.close_all(self._map, ignore_all=True)
            return False
        return bool(super().readable())

    def _close_trigger(self) -> None:
        """waitress's close of its wake-up pipe, leaving alone any number that is no longer that pipe.

        Were one end closed by other code, its number may belong to something else by now (another
        server's socket, a database file): closing it again would close that.
        """
        trigger = self.trigger
        # Under the lock `_wake` holds between checking the pipe and writing to it: stop() wakes the loop
        # and the loop may close the pipe at once, so the close waits for that write to finish.
        with self._trigger_lock:
            for descriptor in trigger._fds:
                if self._is_own_pipe(descriptor):
                    os.close(descriptor)
            trigger._fds = []
            wrapper = trigger.socket  # waitress's own duplicate of the read end
            if wrapper is not None and wrapper.fd >= 0 and not self._is_own_pipe(wrapper.fd):
                wrapper.fd = -1
            wasyncore.file_dispatcher.close(trigger)

    def _is_own_pipe(self, descriptor: int) -> bool:
        """Whether a descriptor number still refers to this server's wake-up pipe."""
        try:
            found = os.fstat(descriptor)
        except OSError:
            return False
        return (found.st_dev, found.st_ino) == self._trigger_identity

    def pull_trigger(self) -> None:
        """Wake the loop (a worker has output for it); nothing once the server is closing."""
        with self._trigger_lock:
            if not self._closing:
                self._wake()

    def _wake(self, thunk: Callable[[], None] | None = None) -> bool:
        """Pull waitress's wake-up pipe, only while its descriptor is still that pipe (callers hold `_trigger_lock`).

        Were the number closed by other code and handed out again, a write would land in whatever now
        has it (a socket, a database file); the loop then wakes at its poll timeout instead.
        """
        descriptor = self.trigger.trigger
        try:
            found = os.fstat(descriptor)
            writable = fcntl.fcntl(descriptor, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
        except OSError:
            found, writable = None, False
        # The read end has the same inode: a number closed and then given to a copy of it is caught too.
        if found is None or not writable or (found.st_dev, found.st_ino) != self._trigger_identity:
            log.warning("the endpoint's wake-up pipe (descriptor %s) was closed by other code", self.trigger.trigger)
            return False
        self.trigger.pull_trigger(thunk)
        return True


def quiet_waitress() -> None:
    """waitress logs a queue-depth warning under load and each refused request; our log stays ours."""
    logging.getLogger("waitress").setLevel(logging.ERROR)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

