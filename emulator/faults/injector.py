"""Fault injection as WSGI middleware in front of the medical-imaging app and its DICOMweb routes.

The cloud-native calls are named by the model's router; DICOMweb requests by their route's operation
(GetDICOMInstance, SearchDICOMStudies, StoreDICOM, ...), through `FaultInjector.routed`, which shares
the injector's counters, seed and record. Only medical-imaging requests pass through it: S3 and KMS are moto standing in for other services
(their errors have other shapes, e.g. S3's XML `SlowDown`), and import jobs read S3 in-process, not
over HTTP, so faults there would test moto rather than ahi. Requests that match no operation pass
untouched (the app answers them with UnknownOperationException).

Decisions are reproducible: the n-th request of an operation draws from blake2b(seed, operation, n),
so the same seed and the same sequence of requests per operation give the same faults, however
requests of different operations interleave.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ahi.emulator.errors import UnknownOperationException
from ahi.emulator.faults.spec import FaultSpec, Outcome
from ahi.emulator.model import error_status
from ahi.emulator.protocol.router import raw_path, service_router
from ahi.emulator.protocol.serializer import error_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ahi.emulator.dispatcher import RoutedApp

log = logging.getLogger("ahi.emulator.faults")

#: Response header naming the injected fault, so a test or a curious operator can tell it from a real one.
FAULT_HEADER = "x-ahi-injected-fault"
MESSAGES = {
    "ThrottlingException": "Rate exceeded",
    "InternalServerException": "An internal error occurred",
    "ServiceQuotaExceededException": "The request exceeds a service quota",
}
_UNIT = float(2**64)


@dataclass(frozen=True)
class InjectedFault:
    """One fault the injector applied: the operation, its request number and the kind."""

    operation: str
    sequence: int
    kind: str


class FaultInjector:
    """Wraps the medical-imaging WSGI app; decides each request's fault before the handler runs."""

    def __init__(
        self, app: WSGIApplication, spec: FaultSpec, seed: int | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.app = app
        self.spec = spec
        self.seed = secrets.randbits(32) if seed is None else seed
        self._sleep = sleep
        self._router = service_router()
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        #: Every fault applied, oldest first (bounded).
        self.events: deque[InjectedFault] = deque(maxlen=100_000)
        log.info("fault injection on (seed %d): %s", self.seed, spec.text)

    def counts(self) -> Counter[tuple[str, str]]:
        """(operation, kind) -> how many times it was injected."""
        with self._lock:
            return Counter((event.operation, event.kind) for event in self.events)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.serve(self.app, self._operation(environ), environ, start_response)

    def routed(self, app: RoutedApp, operation_of: Callable[[str, str], str | None]) -> RoutedApp:
        """`app` (the DICOMweb routes) behind this injector; `operation_of(method, raw path)` names each request."""
        return RoutedFaults(self, app, operation_of)

    def serve(
        self, app: WSGIApplication, operation: str | None, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answer one request of `operation` (None: no operation, never faulted) with `app` or a fault."""
        faults = self.spec.for_operation(operation) if operation else None
        if operation is None or faults is None:
            return app(environ, start_response)
        sequence, draw, latency_draw = self._draw(operation)
        if faults.latency is not None:
            self._sleep(faults.latency.seconds(latency_draw))
        outcome = faults.outcome_for(draw)
        if outcome is None:
            return app(environ, start_response)
        if outcome.after_handler:
            passed_through = _run_handler(app, environ, start_response)
            if passed_through is not None:
                return passed_through
        self._record(InjectedFault(operation, sequence, outcome.kind))
        if outcome.code is None:
            _drop_connection(environ)
        return _error(outcome)(environ, start_response)

    def _operation(self, environ: WSGIEnvironment) -> str | None:
        keys = frozenset(key for key, _ in parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
        try:
            operation, _ = self._router.match(str(environ.get("REQUEST_METHOD", "GET")), raw_path(environ), keys)
        except UnknownOperationException:
            return None
        return operation.name

    def _draw(self, operation: str) -> tuple[int, float, float]:
        """The request's number within its operation and its two draws."""
        with self._lock:
            sequence = self._requests[operation]
            self._requests[operation] += 1
        return (sequence, *draws(self.seed, operation, sequence))

    def _record(self, event: InjectedFault) -> None:
        with self._lock:
            self.events.append(event)
        log.info("injected %s into %s request #%d", event.kind, event.operation, event.sequence)


class RoutedFaults:
    """A routed app (the DICOMweb routes) behind a FaultInjector: it still says which paths are its own."""

    def __init__(self, injector: FaultInjector, app: RoutedApp, operation_of: Callable[[str, str], str | None]) -> None:
        self.injector = injector
        self.app = app
        self.operation_of = operation_of

    def matches(self, method: str, path: str) -> bool:
        return self.app.matches(method, path)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        operation = self.operation_of(str(environ.get("REQUEST_METHOD", "GET")), raw_path(environ))
        return self.injector.serve(self.app, operation, environ, start_response)


def draws(seed: int, operation: str, sequence: int) -> tuple[float, float]:
    """The two uniform draws in [0, 1) of an operation's request number `sequence` (outcome, latency)."""
    digest = hashlib.blake2b(f"{seed}/{operation}/{sequence}".encode(), digest_size=16).digest()
    return int.from_bytes(digest[:8], "big") / _UNIT, int.from_bytes(digest[8:], "big") / _UNIT


def _run_handler(app: WSGIApplication, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes] | None:
    """Run the request to completion; None when it succeeded (the fault then replaces its response).

    A request the handler refused keeps its own answer: the fault models a success the client never heard of.
    """
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
        captured.update(status=status, headers=headers)
        return lambda data: None

    body_iter = app(environ, capture)
    try:
        body = b"".join(body_iter)
    finally:
        close = getattr(body_iter, "close", None)
        if close is not None:
            close()
    if int(str(captured.get("status", "500")).split()[0]) < 300:
        return None
    start_response(captured["status"], captured["headers"])
    return [body]


def _error(outcome: Outcome) -> Any:
    assert outcome.code is not None
    note = " (fault injected after the request was carried out)" if outcome.after_handler else " (fault injected)"
    response = error_response(outcome.code, MESSAGES[outcome.code] + note, error_status(outcome.code), str(uuid.uuid4()))
    response.headers[FAULT_HEADER] = outcome.kind
    return response


def _drop_connection(environ: WSGIEnvironment) -> None:
    """Close the client's connection without a response; Werkzeug treats the error raised as a dropped client."""
    connection = environ.get("werkzeug.socket")
    if not isinstance(connection, socket.socket):
        raise RuntimeError("this server does not expose its connection (werkzeug.socket); cannot drop it")
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    raise ConnectionAbortedError("connection dropped by fault injection")
