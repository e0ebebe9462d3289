"""moto (S3, KMS, STS, ...) in this process, loaded on first need: importing it takes about half a second.

An endpoint that only answers medical-imaging calls never needs it, so `ahi --local` lists data
stores before moto is loaded. Whatever reaches moto's state (a request for another service, the KMS
check of CreateDatastore, an import job reading S3) goes through `MotoWorld.ready()` first, which
loads moto once per process and, once per runtime, puts the state directory's saved world back into it
(emulator/world/, docs/local-world.md) and then the demo world's keys and buckets: nobody sees moto
without them. From then on every write to moto is saved in the state directory before it is answered.
"""

from __future__ import annotations

import functools
import json
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler

from ahi.emulator.model import SERVICE_NAME
from ahi.emulator.protocol.sigv4 import scope_from_headers
from ahi.emulator.store.db import Store
from ahi.emulator.world.persisted import PersistedWorld

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from collections.abc import Iterable

_load_lock = threading.Lock()
_moto_app: WSGIApplication | None = None


def moto_app() -> WSGIApplication:
    """moto's own server app, imported and made once per process (its backends are process-wide)."""
    global _moto_app
    with _load_lock:
        if _moto_app is None:
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

            _moto_app = DomainDispatcherApplication(create_backend_app)
        return _moto_app


class MotoWorld:
    """One runtime's view of moto: loaded, its saved world and demo put back, on the first call that needs it."""

    def __init__(self, store: Store, state_dir: Path) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._restored = False
        self._state_dir = state_dir
        #: What of moto this state directory keeps across restarts (docs/local-world.md); made when moto loads.
        self.world: PersistedWorld | None = None

    def ready(self) -> WSGIApplication:
        """moto's app, with this runtime's saved world and demo keys and buckets in place; blocks while moto loads."""
        app = moto_app()
        with self._lock:
            if not self._restored:
                from ahi.emulator.demo.restore import restore_demo_world

                self.world = PersistedWorld(self._state_dir)
                self.world.load()
                if restore_demo_world(self._store):
                    self.world.save_all()
                self._restored = True
        return app

    def close(self) -> None:
        """The runtime stopped: in-process writes to moto are no longer saved in its state directory."""
        if self.world is not None:
            self.world.close()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI app for every service but medical-imaging; an action the service lacks is a 400, not moto's 500."""
        from botocore.model import OperationNotFoundError

        app = self.ready()
        service = _unserved_service(app, environ)
        if service is not None:
            return unknown_service(start_response, service)
        try:
            assert self.world is not None  # made by ready()
            return self.world.serve(app, environ, start_response)
        except OperationNotFoundError as error:  # a query-protocol Action no model has (STS, IAM, ...)
            return unknown_action(environ, start_response, str(error))
        except NotImplementedError:
            action = str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]
            if not action or _models_operation(environ, action):
                raise  # an action moto lacks: a 500 that names the gap in the log
            return unknown_action(environ, start_response, action)

    def request_handler(self) -> type[WSGIRequestHandler]:
        """Werkzeug's request handler (bench/load.py measures it): moto's for requests not signed for medical-imaging."""
        world = self

        class EndpointRequestHandler(WSGIRequestHandler):
            """moto's handler keeps `x-amz-meta-` header spellings with underscores (Werkzeug drops them).

            Which service a request is for is known only once its headers are read, so a request
            not signed for medical-imaging turns this handler into moto's before its environ is made.
            """

            def make_environ(self) -> WSGIEnvironment:
                scope = scope_from_headers(str(self.headers.get("Authorization", "")), urlsplit(self.path).query)
                if scope is None or scope.service != SERVICE_NAME:
                    world.ready()
                    from moto.moto_server.werkzeug_app import MotoRequestHandler

                    self.__class__ = MotoRequestHandler
                    return self.make_environ()
                return super().make_environ()

        return EndpointRequestHandler


def unknown_action(environ: WSGIEnvironment, start_response: StartResponse, action: str) -> list[bytes]:
    """400 for an action the service does not have, in its protocol's format (JSON with `__type`, or query XML)."""
    from xml.sax.saxutils import escape

    message = f"{action or 'The action'} is not a valid action of this service"
    if environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": "UnknownOperationException", "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "UnknownOperationException")]
    else:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml")]
    start_response("400 Bad Request", [*headers, ("Content-Length", str(len(body)))])
    return [body]


def unknown_service(start_response: StartResponse, service: str) -> list[bytes]:
    """404 as for a route nothing serves: moto has no backend for the signing service (moto itself would fail)."""
    message = f"No operation matches: this endpoint serves no service signed as {service!r}"
    body = json.dumps({"message": message}).encode()
    start_response("404 Not Found", [("Content-Type", "application/json"), ("x-amzn-ErrorType", "UnknownOperationException"),
                                     ("x-amzn-RequestId", str(uuid.uuid4())), ("Content-Length", str(len(body)))])
    return [body]


def _unserved_service(app: Any, environ: WSGIEnvironment) -> str | None:
    """The signing service of a signed request moto has no backend for, else None (moto's own lookup, headers only)."""
    path = str(environ.get("PATH_INFO", ""))
    if not environ.get("HTTP_AUTHORIZATION") or path.startswith("/moto-api"):
        return None
    scope = scope_from_headers(str(environ.get("HTTP_AUTHORIZATION", "")), "")
    with app.lock:
        host = app.infer_service_region_host(environ, path)
        if host is None or app.get_backend_for_host(host) is not None:
            return None
    return scope.service if scope else host


def _models_operation(environ: WSGIEnvironment, action: str) -> bool:
    """Whether botocore's model of the signing service has this operation (so moto's NotImplementedError is its gap)."""
    scope = scope_from_headers(str(environ.get("HTTP_AUTHORIZATION", "")), str(environ.get("QUERY_STRING", "")))
    if scope is None:
        return False
    try:
        return action in _operation_names(scope.service)
    except Exception:  # noqa: BLE001 - botocore has no model of that service: the action cannot be one of its
        return False


@functools.cache
def _operation_names(service: str) -> frozenset[str]:
    from botocore.loaders import create_loader

    loader = create_loader()
    version = loader.determine_latest_version(service, "service-2")
    document = loader.load_service_model(service, "service-2", version)
    return frozenset(document["operations"])
