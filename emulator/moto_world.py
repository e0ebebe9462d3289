"""moto (S3, KMS, STS, ...) in this process, loaded on first need: importing it takes about half a second.

An endpoint that only answers medical-imaging calls never needs it, so `ahi --local` lists data
stores before moto is loaded. Whatever reaches moto's state (a request for another service, the KMS
check of CreateDatastore, an import job reading S3) goes through `MotoWorld.ready()` first, which
loads moto once per process and restores the runtime's demo world into it once per runtime: nobody
sees moto without the demo's keys and buckets.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler

from emulator.model import SERVICE_NAME
from emulator.protocol.sigv4 import scope_from_headers
from emulator.store.db import Store

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
    """One runtime's view of moto: loaded and demo-restored on the first call that needs it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._restored = False

    def ready(self) -> WSGIApplication:
        """moto's app, with this runtime's demo keys and buckets in place; blocks while moto loads."""
        app = moto_app()
        with self._lock:
            if not self._restored:
                from emulator.demo.restore import restore_demo_world

                restore_demo_world(self._store)
                self._restored = True
        return app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI app for every service but medical-imaging."""
        return self.ready()(environ, start_response)

    def request_handler(self) -> type[WSGIRequestHandler]:
        """Werkzeug's request handler for medical-imaging; moto's for the rest, loaded when the first one comes."""
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
