"""The local endpoint as an in-process server: waitress on loopback (emulator/http_server.py), port 0 allowed."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from ahi.emulator.admin import AdminApp
from ahi.emulator.app import MedicalImagingApp
from ahi.emulator.cloudformation.gateway import CloudFormationGateway
from ahi.emulator.config import EndpointConfig
from ahi.emulator.dicomweb.app import DicomwebApp
from ahi.emulator.dicomweb.bearer import BearerAuth
from ahi.emulator.dicomweb.cors import Cors
from ahi.emulator.dispatcher import Dispatcher, RoutedApp
from ahi.emulator.faults import FaultInjector, parse_spec
from ahi.emulator.gate import SignatureGate, verifier_for
from ahi.emulator.http_server import EndpointServer, ServerLimits, quiet_waitress
from ahi.emulator.loopback import is_loopback
from ahi.emulator.runtime import Runtime

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

JOIN_SECONDS = 5.0


class Server(Protocol):
    """What the endpoint needs of an HTTP server (bench/load.py serves Werkzeug's through it too)."""

    @property
    def app(self) -> WSGIApplication: ...
    @property
    def server_address(self) -> tuple[str, int]: ...
    def start(self, name: str) -> None: ...
    def stop(self, join_seconds: float) -> None: ...


class LocalEndpoint:
    """Serve medical-imaging (ours) and every other service (moto) on one port, in a daemon thread."""

    def __init__(self, config: EndpointConfig, limits: ServerLimits | None = None) -> None:
        self.config = config
        #: Threads, connections, timeouts and body limits of the HTTP server (docs/server.md).
        self.limits = limits or ServerLimits()
        self.runtime: Runtime | None = None
        self._server: Server | None = None
        #: The fault injector in front of medical-imaging when `config.faults` is set (its seed, what it injected).
        self.faults: FaultInjector | None = None

    def start(self) -> LocalEndpoint:
        """Open the state, bind the port and start serving; returns self for chaining."""
        if self._server is not None:
            raise RuntimeError("the endpoint is already running")
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
            # Browsers call DICOMweb directly (docs/dicomweb.md#browsers-cors); bearer tokens: docs/dicomweb.md#bearer-tokens.
            dicomweb_app = DicomwebApp(self.runtime)
            routes: RoutedApp = dicomweb_app
            if self.faults is not None:  # DICOMweb operations fault as the cloud-native ones, once authenticated
                routes = self.faults.routed(dicomweb_app, dicomweb_app.operation)
            dicomweb = Cors(BearerAuth(routes, self.runtime))
            other = CloudFormationGateway(self.runtime, self.runtime.moto)
            app = Dispatcher(medical_imaging, other, gate, AdminApp(self.runtime), dicomweb)
            self._server = self.make_server(app)
        except BaseException:
            self.runtime.close()
            self.runtime = None
            raise
        self._server.start("ahi-local-endpoint")
        return self

    def make_server(self, app: WSGIApplication) -> Server:
        """Bind the port (OSError when it is taken) with a server not yet serving."""
        quiet_waitress()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's app logs through it
        return EndpointServer(app, self.config.host, self.config.port, self.limits)

    @property
    def port(self) -> int:
        """The bound port (the real one when the config asked for port 0)."""
        if self._server is None:
            raise RuntimeError("the endpoint is not running")
        return self._server.server_address[1]

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

    def stop(self) -> None:
        """Stop serving, release the port and close the state; safe to call twice."""
        server, runtime = self._server, self.runtime
        self._server = None
        self.runtime = None
        if server is not None:
            server.stop(JOIN_SECONDS)
        if runtime is not None:
            runtime.close()

    def __enter__(self) -> LocalEndpoint:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
