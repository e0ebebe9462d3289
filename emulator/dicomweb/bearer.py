"""OIDC bearer tokens on DICOMweb, for data stores created with `lambdaAuthorizerArn` (docs/dicomweb.md#bearer-tokens).

HealthImaging checks the JWT's time claims itself, then asks the data store's Lambda authorizer whether
the token is valid and which IAM role to act as. A local endpoint cannot run the customer's Lambda, so
a file in the state directory stands in for it: `dicomweb-tokens.json`, an object of token -> role ARN.
The request then acts in the data store's account and region, as the role would.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ahi.emulator.app import service_error_response
from ahi.emulator.dicomweb.gate_rules import BEARER, has_bearer
from ahi.emulator.dispatcher import RoutedApp
from ahi.emulator.errors import ResourceNotFoundException, ServiceError
from ahi.emulator.gate import PRINCIPAL_KEY
from ahi.emulator.model import SERVICE_NAME
from ahi.emulator.protocol.router import raw_path
from ahi.emulator.protocol.sigv4 import Principal
from ahi.emulator.store.datastores import Datastore, find_datastore

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ahi.emulator.runtime import Runtime

TOKENS_FILE = "dicomweb-tokens.json"
#: The guide: `iat` no earlier than 12 hours ago (the longest a token lives).
MAX_TOKEN_AGE_SECONDS = 12 * 3600
_DATASTORE = re.compile(r"^/datastore/([^/]+)/")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")


class AccessDenied(ServiceError):
    """An invalid or expired token, or one its authorizer maps to no role (403)."""

    code = "AccessDeniedException"
    status = 403


class AuthorizerFailed(ServiceError):
    """The authorizer could not answer, or answered with something unusable (424; the code's name is ours)."""

    code = "FailedDependencyException"
    status = 424


def tokens_path(state_dir: Path) -> Path:
    """Where the stand-in authorizer's token -> role ARN rules live."""
    return Path(state_dir) / TOKENS_FILE


class BearerAuth:
    """Wraps the DICOMweb app: a bearer request is authorized here and reaches the app as the data store's account."""

    def __init__(self, app: RoutedApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    def matches(self, method: str, path: str) -> bool:
        return self.app.matches(method, path)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if has_bearer(environ):
            try:
                environ[PRINCIPAL_KEY] = authorize(self.runtime, environ)
            except ServiceError as error:
                request_id = str(uuid.uuid4())
                response = service_error_response(error, "DICOMweb bearer token", request_id)
                response.headers["x-amzn-RequestId"] = request_id
                return response(environ, start_response)
        return self.app(environ, start_response)


def authorize(runtime: Runtime, environ: WSGIEnvironment) -> Principal:
    """The principal a bearer request acts as, or the refusal the service answers with."""
    match = _DATASTORE.match(raw_path(environ))
    if match is None:
        raise ResourceNotFoundException("No data store is named in the request path")
    now = runtime.now()
    with runtime.store.read() as conn:
        datastore = find_datastore(conn, match.group(1), now)
    if datastore is None or datastore.status == "DELETED":
        raise ResourceNotFoundException(f"Data store {match.group(1)} does not exist")
    if not datastore.lambda_authorizer_arn:
        raise AccessDenied(
            f"Data store {datastore.datastore_id} does not accept bearer tokens: it was created without "
            "lambdaAuthorizerArn. Sign the request with SigV4 instead."
        )
    token = str(environ.get("HTTP_AUTHORIZATION", ""))[len(BEARER):].strip()
    check_claims(_claims(token), now)
    role = _role_for(runtime, token)
    return _principal(datastore, role)


def _claims(token: str) -> dict[str, Any]:
    """The JWT's payload; anything that is not a JWT is refused as an invalid token."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AccessDenied("The bearer token is not a JWT (header.payload.signature).")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise AccessDenied("The bearer token's payload is not base64url-encoded JSON.") from None
    if not isinstance(claims, dict):
        raise AccessDenied("The bearer token's payload is not a JSON object.")
    return claims


def check_claims(claims: dict[str, Any], now: float) -> None:
    """The time claims the service checks before it asks the authorizer: exp, nbf and iat (at most 12 hours old)."""
    for name in ("exp", "iat"):
        if not isinstance(claims.get(name), (int, float)) or isinstance(claims.get(name), bool):
            raise AccessDenied(f"The bearer token has no numeric '{name}' claim.")
    if claims["exp"] <= now:
        raise AccessDenied("The bearer token has expired (its 'exp' claim is past).")
    nbf = claims.get("nbf")
    if isinstance(nbf, (int, float)) and nbf > now:
        raise AccessDenied("The bearer token is not valid yet (its 'nbf' claim is in the future).")
    if claims["iat"] > now:
        raise AccessDenied("The bearer token was issued in the future (its 'iat' claim).")
    if claims["iat"] < now - MAX_TOKEN_AGE_SECONDS:
        raise AccessDenied("The bearer token was issued more than 12 hours ago (its 'iat' claim).")


def _role_for(runtime: Runtime, token: str) -> str:
    """The stand-in authorizer: the token's role from the rules file (read on each request, so edits apply at once)."""
    path = tokens_path(runtime.config.state_dir)
    try:
        rules = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthorizerFailed(
            f"The data store's authorizer could not be reached: the local endpoint has no {TOKENS_FILE} in its "
            "state directory to stand in for it."
        ) from None
    except (OSError, ValueError):
        raise _misconfigured(f"{TOKENS_FILE} is not readable JSON") from None
    if not isinstance(rules, dict) or not all(isinstance(value, str) for value in rules.values()):
        raise _misconfigured(f"{TOKENS_FILE} must map tokens to role ARNs")
    role = rules.get(token)
    if role is None:
        raise AccessDenied("The bearer token is not valid (the authorizer rejected it).")
    if role == "":
        raise AccessDenied("The authorizer maps the bearer token to no role: the request is denied.")
    return role


def _misconfigured(why: str) -> AuthorizerFailed:
    return AuthorizerFailed(f"The data store's authorizer is misconfigured: {why}.")


def _principal(datastore: Datastore, role: str) -> Principal:
    match = _ROLE_ARN.match(role)
    if match is None:
        raise _misconfigured("it answered with a malformed role ARN")
    if match.group(1) != datastore.account_id:
        raise AccessDenied(f"The authorizer's role is not in the account of data store {datastore.datastore_id}.")
    return Principal(access_key=role, account_id=datastore.account_id, region=datastore.region, service=SERVICE_NAME)
