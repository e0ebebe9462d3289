"""The one WSGI app on the port: medical-imaging to our app, every other service to moto.

Routing reads only the SigV4 credential scope from the Authorization header or a presigned query string.
With verification on, the signature gate (emulator/gate.py) checks every request first, reading the body
only when its hash is signed and handing the app an equivalent `wsgi.input`. An unsigned request (no scope,
no X-Amz-Target) whose raw path is one of our routes comes to us too, so it gets a JSON
MissingAuthenticationTokenException or an answer rather than moto's default-to-S3 HTML. The endpoint's
own admin calls (`/_ahi/`, emulator/admin.py) are answered before the gate: unsigned, loopback only.
A medical-imaging request whose raw path is a DICOMweb route goes to the DICOMweb app (docs/dicomweb.md#routing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from ahi.emulator.admin import PREFIX as ADMIN_PREFIX
from ahi.emulator.gate import SignatureGate
from ahi.emulator.model import SERVICE_NAME
from ahi.emulator.protocol.router import raw_path, service_router
from ahi.emulator.protocol.sigv4 import scope_from_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class RoutedApp(Protocol):
    """A WSGI app that says which requests are its own (the DICOMweb app)."""

    def matches(self, method: str, path: str) -> bool: ...
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]: ...


def service_of(environ: WSGIEnvironment) -> str | None:
    """The signing service named by the request's credential scope, if it has one."""
    scope = scope_from_headers(str(environ.get("HTTP_AUTHORIZATION", "")), str(environ.get("QUERY_STRING", "")))
    return scope.service if scope else None


class Dispatcher:
    """Top-level WSGI app: `medical-imaging` requests to ours, anything else to moto."""

    def __init__(
        self,
        medical_imaging: WSGIApplication,
        other: WSGIApplication,
        gate: SignatureGate | None = None,
        admin: WSGIApplication | None = None,
        dicomweb: RoutedApp | None = None,
    ) -> None:
        self.medical_imaging = medical_imaging
        self.other = other
        self.admin = admin
        self.dicomweb = dicomweb
        self.router = service_router()
        #: With signature verification on, every request passes it before either app sees it.
        self.gate = gate

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.admin is not None and raw_path(environ).startswith(ADMIN_PREFIX):
            return self.admin(environ, start_response)
        medical_imaging = self.is_medical_imaging(environ)
        if self.gate is not None:
            refusal = self.gate.check(environ, medical_imaging, medical_imaging and self._is_dicomweb(environ))
            if refusal is not None:
                return refusal(environ, start_response)
        if medical_imaging:
            if self._is_dicomweb(environ):
                return self.dicomweb(environ, start_response)  # type: ignore[misc]
            return self.medical_imaging(environ, start_response)
        return self.other(environ, start_response)

    def _is_dicomweb(self, environ: WSGIEnvironment) -> bool:
        return self.dicomweb is not None and self.dicomweb.matches(
            str(environ.get("REQUEST_METHOD", "GET")), raw_path(environ)
        )

    def is_medical_imaging(self, environ: WSGIEnvironment) -> bool:
        """Signed for medical-imaging, or unsigned and addressed to one of its routes."""
        service = service_of(environ)
        if service is not None:
            return service == SERVICE_NAME
        if environ.get("HTTP_X_AMZ_TARGET"):
            return False
        return self.router.matches(str(environ.get("REQUEST_METHOD", "GET")), raw_path(environ)) or self._is_dicomweb(
            environ
        )
