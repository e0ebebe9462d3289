"""Our medical-imaging WSGI app: route -> (verify) -> parse -> validate -> handler -> serialize."""

from __future__ import annotations

import logging
import os
import traceback
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from ahi.emulator.context import RequestContext
from ahi.emulator.errors import ServiceError
from ahi.emulator.gate import PRINCIPAL_KEY, principal_of, verifier_for
from ahi.emulator.handlers import HANDLERS
from ahi.emulator.model import error_status
from ahi.emulator.protocol.parser import parse_request
from ahi.emulator.protocol.router import raw_path, service_router
from ahi.emulator.protocol.serializer import error_response, serialize_response
from ahi.emulator.protocol.sigv4 import SignedRequest, scope_from_headers
from ahi.emulator.protocol.validate import validate_input
from ahi.emulator.tiers import after_call

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ahi.emulator.runtime import Runtime

log = logging.getLogger("emulator")

DEFAULT_REGION = "us-east-1"
#: moto's per-request account override; honoured only without verification, so our ARNs agree with S3 and KMS.
ACCOUNT_HEADER = "x-moto-account-id"


class MedicalImagingApp:
    """The medical-imaging half of the local endpoint, driven entirely by botocore's model."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.router = service_router()
        self.handlers = HANDLERS
        config = runtime.config
        self.verifier = verifier_for(config) if config.verify_signatures else None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request_id = str(uuid.uuid4())
        response = self.respond(request, request_id)
        return response(environ, start_response)

    def respond(self, request: Request, request_id: str) -> Response:
        """One request to one response; every failure becomes a JSON error, never HTML."""
        operation_name = "-"
        try:
            path = raw_path(request.environ)
            operation, labels = self.router.match(request.method, path, frozenset(request.args.keys()))
            operation_name = operation.name
            body = request.get_data(cache=True)
            region = self._authenticate(request, path, body)
            params = parse_request(operation, labels, request.args, request.headers, body)
            validate_input(operation.input_shape, params)
            handler = self.handlers[operation.name]
            context = RequestContext(
                operation=operation.name,
                account_id=self._account(request),
                region=region,
                request_id=request_id,
                runtime=self.runtime,
                accept=request.headers.get("Accept"),
            )
            output: dict[str, Any] = handler(context, params) or {}
            # Storage tiers: the touches this call made and the tier fields its response shows (docs/storage-tiers.md).
            after_call(context, operation.name, params, output)
            return serialize_response(operation, output, request_id)
        except ServiceError as error:
            status = error.status or error_status(error.code)
            log.debug("%s %s -> %s %s", request_id, operation_name, status, error.code)
            return error_response(error.code, error.message, status, request_id)
        except Exception as exc:
            # The frames, but not the exception's text: it may quote metadata or tag values.
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("unexpected %s in %s (request %s)\n%s", type(exc).__name__, operation_name, request_id, frames)
            message = f"An internal error occurred in {operation_name}; request id {request_id}."
            return error_response("InternalServerException", message, error_status("InternalServerException"), request_id)

    def _authenticate(self, request: Request, path: str, body: bytes) -> str:
        """The region of the verified credential scope (checked by the dispatcher's gate, or here), else the claimed one."""
        principal = principal_of(request.environ)
        if principal is not None:
            return principal.region
        if self.verifier is not None:
            signed = SignedRequest(request.method, path, request.query_string.decode("latin-1"), request.headers, body)
            principal = self.verifier.verify(signed)
            request.environ[PRINCIPAL_KEY] = principal
            return principal.region
        scope = scope_from_headers(request.headers.get("Authorization", ""), request.query_string.decode("latin-1"))
        return scope.region if scope else DEFAULT_REGION

    def _account(self, request: Request) -> str:
        """The verified key's account; unverified, moto's rule (MOTO_ACCOUNT_ID, x-moto-account-id, the configured one)."""
        principal = principal_of(request.environ)
        if principal is not None:
            return principal.account_id
        if "MOTO_ACCOUNT_ID" in os.environ:
            return self.runtime.config.account_id
        return request.headers.get(ACCOUNT_HEADER) or self.runtime.config.account_id
