"""The WSGI app in front of moto: CloudFormation requests run with this endpoint's runtime, and fail as CloudFormation does.

A resource that fails (a data store CreateDatastore refuses, one that ends CREATE_FAILED, one that
cannot be deleted) fails the stack operation the way CloudFormation reports it: the call itself
succeeds and the stack ends ROLLBACK_COMPLETE, UPDATE_ROLLBACK_COMPLETE or DELETE_FAILED with the
handler's message in its events (docs/cloudformation.md#failures). Anything else that escapes moto is a
query-protocol XML error, never an HTML page.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from ahi.emulator.cloudformation.runtime_scope import CURRENT
from ahi.emulator.dispatcher import service_of
from ahi.emulator.protocol.sigv4 import scope_from_headers

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from collections.abc import Iterable

    from ahi.emulator.cloudformation.datastore import ResourceFailure
    from ahi.emulator.moto_world import MotoWorld
    from ahi.emulator.runtime import Runtime

log = logging.getLogger("ahi.emulator.cloudformation")

SERVICE = "cloudformation"
NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
ACCOUNT_HEADER = "HTTP_X_MOTO_ACCOUNT_ID"
_registered = threading.Lock()
_done = False


class CloudFormationGateway:
    """moto for every service but medical-imaging; CloudFormation requests get the runtime and failure handling."""

    def __init__(self, runtime: Runtime, moto: MotoWorld | WSGIApplication) -> None:
        self.runtime, self.moto = runtime, moto

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if service_of(environ) != SERVICE:
            return self.moto(environ, start_response)
        ready = getattr(self.moto, "ready", None)
        if ready is not None:
            ready()
        from ahi.emulator.cloudformation.datastore import ResourceFailure

        _register()
        form = _form(environ)
        region = _region(environ)
        account = str(environ.get(ACCOUNT_HEADER) or self.runtime.config.account_id)
        action, stack_name = form.get("Action", ""), form.get("StackName", "")
        doomed = _stack(account, region, stack_name) if action == "DeleteStack" else None
        token = CURRENT.set(self.runtime)
        try:
            return list(self.moto(environ, start_response))
        except ResourceFailure as failure:
            return _failed(start_response, action, account, region, stack_name, doomed, failure)
        except Exception as error:  # noqa: BLE001 - CloudFormation answers its own XML error, never an HTML page
            log.exception("CloudFormation %s failed", action or "request")
            message = f"{action or 'The request'} failed: {type(error).__name__}"
            return query_error(start_response, 500, "InternalFailure", message, sys.exc_info())
        finally:
            CURRENT.reset(token)


def _register() -> None:
    global _done
    with _registered:
        if not _done:
            from ahi.emulator.cloudformation.datastore import register

            register()
            _done = True


def _form(environ: WSGIEnvironment) -> dict[str, str]:
    """The request's form fields; the body is put back for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    fields = parse_qs(body.decode("utf-8", "replace")) | parse_qs(str(environ.get("QUERY_STRING", "")))
    return {name: values[0] for name, values in fields.items()}


def _region(environ: WSGIEnvironment) -> str:
    scope = scope_from_headers(str(environ.get("HTTP_AUTHORIZATION", "")), str(environ.get("QUERY_STRING", "")))
    return scope.region if scope else "us-east-1"


def _stack(account: str, region: str, name: str) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    try:
        return cloudformation_backends[account][region].get_stack(name)
    except Exception:  # noqa: BLE001 - no such stack: moto answers that itself
        return None


def _failed(
    start_response: StartResponse, action: str, account: str, region: str, stack_name: str, doomed: Any,
    failure: ResourceFailure,
) -> list[bytes]:
    """Put the stack in the state CloudFormation leaves it in after this failure; the call's own answer."""
    from moto.cloudformation.models import Event, cloudformation_backends

    backend = cloudformation_backends[account][region]
    stack = doomed if action == "DeleteStack" else _stack(account, region, stack_name)
    if stack is None:
        return query_error(start_response, 400, "ValidationError", failure.reason)
    verb = {"CreateStack": "CREATE", "UpdateStack": "UPDATE", "DeleteStack": "DELETE"}.get(action)
    if verb is None:
        return query_error(start_response, 400, "ValidationError", failure.reason)
    stack.events.append(Event(
        stack.stack_id, stack.name, failure.logical_id, failure.physical_id, "AWS::HealthImaging::Datastore",
        f"{verb}_FAILED", failure.reason, None,
    ))
    if verb == "DELETE":
        backend.stacks[stack.stack_id] = stack
        backend.deleted_stacks.pop(stack.stack_id, None)
        stack._add_stack_event("DELETE_FAILED", f"The following resource(s) failed to delete: [{failure.logical_id}]. ")
        stack.status = "DELETE_FAILED"
        return query_answer(start_response, "DeleteStack", "")
    reason = f"The following resource(s) failed to {verb.lower()}: [{failure.logical_id}]. "
    if verb == "CREATE":
        stack._add_stack_event("ROLLBACK_IN_PROGRESS", reason + "Rollback requested by user.")
        try:
            stack.resource_map.delete()
        except Exception:  # noqa: BLE001 - what could not be rolled back stays; the stack still ends rolled back
            log.warning("rolling back stack %s left resources behind", stack.name, exc_info=True)
        # A rolled-back stack has no resources or outputs; moto would otherwise create them again when asked.
        stack.resource_map._resource_json_map = {}
        stack.output_map._output_json_map = {}
        final = "ROLLBACK_COMPLETE"
    else:
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", reason)
        final = "UPDATE_ROLLBACK_COMPLETE"
    stack._add_stack_event(final)
    stack.status = final
    return query_answer(start_response, action, f"<StackId>{escape(stack.stack_id)}</StackId>")


def query_answer(start_response: StartResponse, action: str, result: str) -> list[bytes]:
    """A successful CloudFormation answer with `result` inside its Result element."""
    body = (
        f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>"
    ).encode()
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
    return [body]


def query_error(
    start_response: StartResponse, status: int, code: str, message: str, exc_info: OptExcInfo | None = None
) -> list[bytes]:
    """CloudFormation's error document (query protocol); `exc_info` when moto may have started its own answer."""
    kind = "Sender" if status < 500 else "Receiver"
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    reason = "Bad Request" if status < 500 else "Internal Server Error"
    start_response(f"{status} {reason}", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], exc_info)
    return [body]
