"""The local endpoint as an in-process server: one threaded Werkzeug server on loopback, port 0 allowed."""

from __future__ import annotations

import errno
import logging
import threading
from types import TracebackType
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, make_server

from emulator.app import MedicalImagingApp
from emulator.cli import is_loopback
from emulator.config import EndpointConfig
from emulator.dispatcher import Dispatcher
from emulator.faults import FaultInjector, parse_spec
from emulator.gate import SignatureGate, verifier_for
from emulator.runtime import Runtime

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

JOIN_SECONDS = 5.0
#: How often the serve loop checks for shutdown; also the worst-case latency of `stop()`.
POLL_SECONDS = 0.05


class LocalEndpoint:
    """Serve medical-imaging (ours) and every other service (moto) on one port, in a daemon thread."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self.runtime: Runtime | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        #: The fault injector in front of medical-imaging when `config.faults` is set (its seed, what it injected).
        self.faults: FaultInjector | None = None

    def start(self) -> LocalEndpoint:
        """Open the state, bind the port and start serving; returns self for chaining."""
        if self._server is not None:
            raise RuntimeError("the endpoint is already running")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if not is_loopback(self.config.host) and not self.config.verify_signatures:
            raise ValueError(f"refusing to bind {self.config.host} without signature verification: it is not loopback")
        fault_spec = parse_spec(self.config.faults) if self.config.faults else None
        self.runtime = Runtime(self.config)
        try:
            medical_imaging: WSGIApplication = MedicalImagingApp(self.runtime)
            if fault_spec is not None:
                self.faults = FaultInjector(medical_imaging, fault_spec, self.config.faults_seed)
                medical_imaging = self.faults
            gate = SignatureGate(verifier_for(self.config)) if self.config.verify_signatures else None
            app = Dispatcher(medical_imaging, self.runtime.moto, gate)
            try:
                self._server = make_server(
                    self.config.host, self.config.port, app, threaded=True, request_handler=self.runtime.moto.request_handler()
                )
            except SystemExit:  # Werkzeug exits the process on a busy port; an in-process server must not
                raise OSError(errno.EADDRINUSE, f"port {self.config.port} is in use") from None
        except BaseException:
            self.runtime.close()
            self.runtime = None
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name="ahi-local-endpoint", daemon=True
        )
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        """The bound port (the real one when the config asked for port 0)."""
        if self._server is None:
            raise RuntimeError("the endpoint is not running")
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        """`http://host:port`, the value for endpoint_url / AWS_ENDPOINT_URL."""
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def restart(self) -> LocalEndpoint:
        """Stop and start again on the same state dir, on the same port when it is still free.

        For persistence tests; clients made for the old `url` keep working unless the port changed.
        """
        port = self.port
        self.stop()
        wanted = self.config.port
        self.config.port = port
        try:
            return self.start()
        except OSError:
            self.config.port = 0
            return self.start()
        finally:
            self.config.port = wanted

    def serve_forever(self) -> None:
        """Block until `stop()` is called from another thread (or a signal handler)."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        """Stop serving, release the port and close the state; safe to call twice."""
        server, thread, runtime = self._server, self._thread, self.runtime
        self._server = self._thread = None
        self.runtime = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_SECONDS)
        if runtime is not None:
            runtime.close()

    def __enter__(self) -> LocalEndpoint:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
