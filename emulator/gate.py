"""The signature check in front of every service on the port, run by the dispatcher before it hands a request on.

With verification on, no request reaches our app or moto unless SigV4 says who sent it: the body is
read (spooled to disk past 1 MiB) only when its hash is part of what was signed, and the app behind
gets an equivalent `wsgi.input`. A refused request is answered in the format of the service it was
addressed to. The verified account replaces any client-sent `x-moto-account-id` (docs/signatures.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import sys
import tempfile
import uuid
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from werkzeug.datastructures import EnvironHeaders
from werkzeug.wrappers import Response

from ahi.emulator.config import EndpointConfig
from ahi.emulator.dicomweb.gate_rules import has_bearer, is_store
from ahi.emulator.model import error_status
from ahi.emulator.errors import (
    BadRequestException,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    PayloadHashMismatch,
    PresignedUrlExpired,
    ServiceError,
    SignatureExpired,
    UnrecognizedClientException,
    UnsupportedSigning,
)
from ahi.emulator.protocol.router import raw_path
from ahi.emulator.protocol.serializer import error_response
from ahi.emulator.protocol.sigv2 import is_sigv2, verify_sigv2
from ahi.emulator.protocol.sigv4 import AccessKey, Principal, SignedRequest, Verifier, scope_from_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

#: Where the dispatcher leaves the verified principal for our app.
PRINCIPAL_KEY = "ahi.principal"
ACCOUNT_ENVIRON = "HTTP_X_MOTO_ACCOUNT_ID"
SPOOL_IN_MEMORY = 1 << 20
READ_CHUNK = 1 << 16

#: S3's answers (code, status, message or None for the error's own) for each refusal, most specific first.
_S3 = [
    (PayloadHashMismatch, "XAmzContentSHA256Mismatch", 400, None),
    (PresignedUrlExpired, "AccessDenied", 403, "Request has expired"),
    (SignatureExpired, "RequestTimeTooSkewed", 403,
     "The difference between the request time and the current time is too large."),
    (InvalidSignatureException, "SignatureDoesNotMatch", 403,
     "The request signature we calculated does not match the signature you provided. "
     "Check your key and signing method."),
    (UnrecognizedClientException, "InvalidAccessKeyId", 403,
     "The AWS Access Key Id you provided does not exist in our records."),
    (MissingAuthenticationTokenException, "AccessDenied", 403, "Access Denied"),
    (IncompleteSignatureException, "AuthorizationHeaderMalformed", 400, None),
    (UnsupportedSigning, "NotImplemented", 501, None),
    (BadRequestException, "IncompleteBody", 400, None),
]
#: Query-protocol services (STS, IAM, ...): their codes for the same refusals.
_QUERY = [
    (InvalidSignatureException, "SignatureDoesNotMatch", 403),
    (UnrecognizedClientException, "InvalidClientTokenId", 403),
    (MissingAuthenticationTokenException, "MissingAuthenticationToken", 403),
    (IncompleteSignatureException, "IncompleteSignature", 400),
]


def verifier_for(config: EndpointConfig) -> Verifier:
    """The verifier of this endpoint's keys, plus the access keys moto's IAM issued (in their own accounts)."""
    return Verifier(
        secrets=dict(config.secrets),
        shared_secret=config.shared_secret,
        max_skew=None if config.max_clock_skew is None else dt.timedelta(seconds=config.max_clock_skew),
        account_id=config.account_id,
        lookup=moto_iam_key,
    )


def moto_iam_key(access_key: str) -> AccessKey | None:
    """An active access key created through moto's IAM, in its account; an assumed role's also needs its token."""
    models = sys.modules.get("moto.iam.models")
    if models is None:  # moto not loaded yet: it has issued no keys
        return None
    for account_id, account in list(models.iam_backends.items()):
        for partition in models.PARTITION_NAMES:
            key = account[partition].access_keys.get(access_key)
            if key is not None and key.status == "Active":
                return AccessKey(key.secret_access_key, account_id, _session_token(access_key) if key.role_arn else None)
    return None


def _session_token(access_key: str) -> str:
    """The session token STS issued with a temporary key; an impossible one if moto no longer knows it."""
    sts = sys.modules.get("moto.sts.models")
    for account in list(sts.sts_backends.values()) if sts is not None else []:
        for backend in list(account.values()):
            for role in list(backend.assumed_roles):
                if role.access_key_id == access_key:
                    return str(role.session_token)
    return "\0no-session-token"


class SignatureGate:
    """Verify a request before dispatch; None to let it through, else the refusal to answer with."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier

    def check(self, environ: WSGIEnvironment, medical_imaging: bool, dicomweb: bool = False) -> WSGIApplication | None:
        if environ.get("REQUEST_METHOD") == "OPTIONS" and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
            environ.pop(ACCOUNT_ENVIRON, None)
            return None  # a CORS preflight: unsigned on AWS too, and it carries no data
        if dicomweb and has_bearer(environ):  # docs/dicomweb.md#bearer-tokens
            environ.pop(ACCOUNT_ENVIRON, None)
            return None  # OIDC: the DICOMweb app checks the token against the data store's authorizer
        if raw_path(environ).startswith("/moto-api/"):
            environ.pop(ACCOUNT_ENVIRON, None)
            return None if _from_loopback(environ) else self._refuse(
                MissingAuthenticationTokenException("Missing Authentication Token"), environ, medical_imaging
            )
        headers = EnvironHeaders(environ)
        request = SignedRequest(
            str(environ.get("REQUEST_METHOD", "GET")),
            raw_path(environ),
            str(environ.get("QUERY_STRING", "")),
            headers,
            body_sha256=lambda: spool_body(environ),
            streaming_payload=dicomweb and is_store(environ, raw_path(environ)),
        )
        try:
            if not medical_imaging and is_sigv2(str(environ.get("HTTP_AUTHORIZATION", "")), request.query_string):
                principal = verify_sigv2(self.verifier, request)
            else:
                principal = self.verifier.verify(request)
        except ServiceError as error:
            return self._refuse(error, environ, medical_imaging)
        environ[PRINCIPAL_KEY] = principal
        environ[ACCOUNT_ENVIRON] = principal.account_id  # whatever the client sent, signed or not: the key decides
        return None

    def _refuse(self, error: ServiceError, environ: WSGIEnvironment, medical_imaging: bool) -> WSGIApplication:
        request_id = str(uuid.uuid4())
        if medical_imaging:
            return error_response(error.code, error.message, error.status or error_status(error.code), request_id)
        if environ.get("HTTP_X_AMZ_TARGET"):
            return _json_error(error, request_id)
        if _is_query_protocol(environ):
            return _query_error(error, request_id)
        if _service(environ) in ("s3", None):  # moto answers unsigned, unmatched requests as S3
            return _s3_error(error, request_id)
        return error_response(error.code, error.message, error.status or 403, request_id)


def principal_of(environ: WSGIEnvironment) -> Principal | None:
    """The principal the gate verified for this request, if it ran."""
    found = environ.get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def spool_body(environ: WSGIEnvironment) -> str:
    """Read the body once into a spooled file that replaces `wsgi.input`; its sha256 (hex)."""
    stream = environ["wsgi.input"]
    length_text = str(environ.get("CONTENT_LENGTH") or "")
    remaining: int | None = int(length_text) if length_text.isdigit() else None
    if remaining is None and not environ.get("wsgi.input_terminated"):
        remaining = 0  # no length and no framing: no body (as Werkzeug reads it)
    digest = hashlib.sha256()
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    total = 0
    try:
        while remaining is None or remaining > 0:
            chunk = stream.read(READ_CHUNK if remaining is None else min(READ_CHUNK, remaining))
            if not chunk:
                break
            digest.update(chunk)
            spool.write(chunk)
            total += len(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    except Exception as exc:  # a malformed chunked body or a dropped connection
        spool.close()
        raise BadRequestException("The request body could not be read to its end.") from exc
    spool.seek(0)
    environ["wsgi.input"] = spool
    environ["CONTENT_LENGTH"] = str(total)
    return digest.hexdigest()


def _from_loopback(environ: WSGIEnvironment) -> bool:
    try:
        return ipaddress.ip_address(str(environ.get("REMOTE_ADDR", ""))).is_loopback
    except ValueError:
        return False


def _service(environ: WSGIEnvironment) -> str | None:
    scope = scope_from_headers(str(environ.get("HTTP_AUTHORIZATION", "")), str(environ.get("QUERY_STRING", "")))
    return scope.service if scope else None


def _is_query_protocol(environ: WSGIEnvironment) -> bool:
    content_type = str(environ.get("CONTENT_TYPE", ""))
    return content_type.startswith("application/x-www-form-urlencoded") or "Action=" in str(
        environ.get("QUERY_STRING", "")
    )


def _s3_error(error: ServiceError, request_id: str) -> Response:
    code, status, message = next(
        ((c, s, m or error.message) for kind, c, s, m in _S3 if isinstance(error, kind)),
        (error.code, error.status or 403, error.message),
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
    )
    return Response(body, status=status, headers={"x-amz-request-id": request_id}, content_type="application/xml")


def _json_error(error: ServiceError, request_id: str) -> Response:
    """awsJson services (KMS, ...) answer signature errors with 400 and the code in `__type`."""
    status = 501 if isinstance(error, UnsupportedSigning) else 400
    body = json.dumps({"__type": error.code, "message": error.message})
    headers = {"x-amzn-ErrorType": error.code, "x-amzn-RequestId": request_id}
    return Response(body, status=status, headers=headers, content_type="application/x-amz-json-1.1")


def _query_error(error: ServiceError, request_id: str) -> Response:
    code, status = next(((c, s) for kind, c, s in _QUERY if isinstance(error, kind)), (error.code, error.status or 400))
    body = (
        "<ErrorResponse>"
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(body, status=status, content_type="text/xml")

