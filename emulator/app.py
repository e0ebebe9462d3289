"""Our medical-imaging WSGI app: route -> (verify) -> parse -> validate -> handler -> serialize."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from ahi.emulator.caller import caller_account, caller_region
from ahi.emulator.context import RequestContext
from ahi.emulator.errors import ServiceError
from ahi.emulator.gate import verifier_for
from ahi.emulator.handlers import HANDLERS
from ahi.emulator.model import error_status
from ahi.emulator.protocol.parser import parse_request
from ahi.emulator.protocol.router import raw_path, service_router
from ahi.emulator.protocol.serializer import error_response, serialize_response
from ahi.emulator.protocol.validate import validate_input
from ahi.emulator.tiers import after_call

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ahi.emulator.runtime import Runtime

log = logging.getLogger("emulator")


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
            region = caller_region(request, path, self.verifier, body)
            params = parse_request(operation, labels, request.args, request.headers, body)
            validate_input(operation.input_shape, params)
            handler = self.handlers[operation.name]
            context = RequestContext(
                operation=operation.name,
                account_id=caller_account(request, self.runtime.config),
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
            return service_error_response(error, operation_name, request_id)
        except Exception as exc:
            return unexpected_error_response(exc, operation_name, request_id)


def service_error_response(error: ServiceError, operation_name: str, request_id: str) -> Response:
    """The JSON error a client gets for a ServiceError, with the model's status for its code."""
    status = error.status or error_status(error.code)
    log.debug("%s %s -> %s %s", request_id, operation_name, status, error.code)
    return error_response(error.code, error.message, status, request_id)


def log_unexpected(exc: Exception, operation_name: str, request_id: str) -> None:
    """Log an unexpected exception's frames, but not its text: it may quote metadata or tag values."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s in %s (request %s)\n%s", type(exc).__name__, operation_name, request_id, frames)


def unexpected_error_response(exc: Exception, operation_name: str, request_id: str) -> Response:
    """Log an unexpected exception (`log_unexpected`); a 500 naming the request."""
    log_unexpected(exc, operation_name, request_id)
    message = f"An internal error occurred in {operation_name}; request id {request_id}."
    return error_response("InternalServerException", message, error_status("InternalServerException"), request_id)
