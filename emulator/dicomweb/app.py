"""The DICOMweb half of medical-imaging: route -> authenticate -> data store check -> handler (docs/dicomweb.md#routing).

The dispatcher sends here every medical-imaging request (signed or not) whose raw path is a DICOMweb
route. Identity is the model-driven app's (emulator/caller.py); the data store must be the caller's and
ACTIVE, as for the cloud-native calls; a ServiceError becomes the same JSON error those calls answer with.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, MapAdapter, Rule
from werkzeug.wrappers import Request, Response

from ahi.emulator.app import service_error_response, unexpected_error_response
from ahi.emulator.caller import caller_account, caller_region
from ahi.emulator.context import RequestContext
from ahi.emulator.dicomweb import qido, stow, wado
from ahi.emulator.dicomweb.route import DicomwebRequest, Route
from ahi.emulator.errors import ServiceError, UnknownOperationException
from ahi.emulator.gate import spool_body, verifier_for
from ahi.emulator.handlers.datastores import load_active_datastore
from ahi.emulator.protocol.router import raw_path

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ahi.emulator.runtime import Runtime

PREFIX = "/datastore/<datastoreId>"
ROUTES: list[Route] = [*wado.ROUTES, *qido.ROUTES, *stow.ROUTES]
REQUEST_ID_HEADER = "x-amzn-RequestId"


def _url_map(routes: list[Route]) -> Map:
    rules = [Rule(PREFIX + route.rule, methods=list(route.methods), endpoint=route) for route in routes]
    return Map(rules, strict_slashes=False, merge_slashes=False, redirect_defaults=False)


class DicomwebApp:
    """WSGI app for every DICOMweb route; answers JSON errors, never HTML."""

    def __init__(self, runtime: Runtime, routes: list[Route] | None = None) -> None:
        self.runtime = runtime
        self.routes = ROUTES if routes is None else routes
        self._map = _url_map(self.routes)
        config = runtime.config
        self.verifier = verifier_for(config) if config.verify_signatures else None

    def _adapter(self) -> MapAdapter:
        return self._map.bind("local", url_scheme="http")

    def matches(self, method: str, path: str) -> bool:
        """Whether the raw path is a DICOMweb route (for any method: a wrong one is answered here, as JSON)."""
        try:
            self._adapter().match(path.rstrip("/") or "/", method=method.upper())
        except MethodNotAllowed:
            return True
        except NotFound:
            return False
        return True

    def operation(self, method: str, path: str) -> str | None:
        """The operation a request names (fault injection draws per operation), or None for no route."""
        try:
            return self._route(method, path)[0].operation
        except UnknownOperationException:
            return None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request_id = str(uuid.uuid4())
        response = self.respond(request, request_id)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response(environ, start_response)

    def respond(self, request: Request, request_id: str) -> Response:
        """One request to one response; every failure becomes a JSON error."""
        operation = "-"
        try:
            path = raw_path(request.environ)
            route, labels = self._route(request.method, path)
            operation = route.operation
            region = caller_region(request, path, self.verifier, body_sha256=lambda: spool_body(request.environ))
            account_id = caller_account(request, self.runtime.config)
            datastore_id = labels.pop("datastoreId")
            context = RequestContext(operation, account_id, region, request_id, self.runtime)
            with self.runtime.store.read() as conn:
                load_active_datastore(context, conn, datastore_id, "only an ACTIVE data store serves DICOMweb")
            call = DicomwebRequest(
                runtime=self.runtime,
                account_id=account_id,
                region=region,
                request_id=request_id,
                datastore_id=datastore_id,
                labels=labels,
                request=request,
                operation=operation,
            )
            return route.handler(call)
        except ServiceError as error:
            return service_error_response(error, operation, request_id)
        except Exception as exc:
            return unexpected_error_response(exc, operation, request_id)

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and its unquoted labels; an unknown path or method is UnknownOperationException (404)."""
        verb = method.upper()
        try:
            route, values = self._adapter().match(path.rstrip("/") or "/", method=verb)
        except (NotFound, MethodNotAllowed):
            raise UnknownOperationException(f"No operation matches {verb} {path}") from None
        # HEAD is GET without the body, as HTTP has every server answer it (docs/dicomweb.md#routing).
        if verb not in route.methods and not (verb == "HEAD" and "GET" in route.methods):
            raise UnknownOperationException(f"No operation matches {verb} {path}")
        return route, {label: unquote(value) for label, value in values.items()}
