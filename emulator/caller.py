"""Who sent a medical-imaging request: its region and account, shared by the model-driven app and DICOMweb.

The dispatcher's signature gate leaves the verified principal in the environ; an app built without the gate
but configured to verify checks the signature itself; unverified, the credential scope's region is taken as
claimed and the account follows moto's rule (docs/signatures.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from werkzeug.wrappers import Request

from ahi.emulator.config import EndpointConfig
from ahi.emulator.gate import PRINCIPAL_KEY, principal_of
from ahi.emulator.protocol.sigv4 import SignedRequest, Verifier, scope_from_headers

DEFAULT_REGION = "us-east-1"
#: moto's per-request account override; honoured only without verification, so our ARNs agree with S3 and KMS.
ACCOUNT_HEADER = "x-moto-account-id"


def caller_region(
    request: Request, path: str, verifier: Verifier | None, body: bytes = b"", body_sha256: Callable[[], str] | None = None
) -> str:
    """The region of the verified credential scope (checked by the dispatcher's gate, or here), else the claimed one."""
    principal = principal_of(request.environ)
    if principal is not None:
        return principal.region
    query = request.query_string.decode("latin-1")
    if verifier is not None:
        principal = verifier.verify(SignedRequest(request.method, path, query, request.headers, body, body_sha256))
        request.environ[PRINCIPAL_KEY] = principal
        return principal.region
    scope = scope_from_headers(request.headers.get("Authorization", ""), query)
    return scope.region if scope else DEFAULT_REGION


def caller_account(request: Request, config: EndpointConfig) -> str:
    """The verified key's account; unverified, moto's rule (MOTO_ACCOUNT_ID, x-moto-account-id, the configured one)."""
    principal = principal_of(request.environ)
    if principal is not None:
        return principal.account_id
    if "MOTO_ACCOUNT_ID" in os.environ:
        return config.account_id
    return request.headers.get(ACCOUNT_HEADER) or config.account_id
