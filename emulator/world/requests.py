"""Which moto requests change state, and what they touch: read from the request line and headers alone.

A request is persisted once it has been answered and before the answer leaves (emulator/world/
persisted.py), so a read costs nothing and a write is acknowledged only once it is on disk. S3 says
what it does with the method; the JSON and query protocols (KMS, IAM, STS, ...) with the action name.
Where the name does not say the call is a read, it is taken as a write: a needless save costs time,
a missed one would lose data.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: Actions that only read, by name; STS's GetSessionToken and GetFederationToken mint credentials moto keeps.
_READ_ACTION = re.compile(r"(Get|List|Describe|Head|Lookup|Search|Query|Scan|BatchGet|Simulate|Check)[A-Z]\w*")
_STATEFUL_GETS = frozenset({"GetSessionToken", "GetFederationToken"})
#: KMS calls that use a key without changing it.
_KMS_CRYPTO = frozenset({
    "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext", "GenerateRandom", "GenerateMac", "VerifyMac", "Sign", "Verify",
})
_S3_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def action_of(environ: WSGIEnvironment, form: bytes = b"") -> str | None:
    """The action of a JSON (X-Amz-Target) or query protocol request: its header, query string or form body."""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return target.rpartition(".")[2]
    for source in (str(environ.get("QUERY_STRING", "")), form.decode("utf-8", "replace")):
        values = parse_qs(source).get("Action")
        if values:
            return values[0]
    return None


def is_read(service: str, method: str, action: str | None) -> bool:
    """Whether a request of this service, method and action leaves moto's state as it was."""
    if service == "s3":
        return method in _S3_READ_METHODS
    if action is None:
        return method in _S3_READ_METHODS and service != "sts"
    if action in _STATEFUL_GETS:
        return False
    return bool(_READ_ACTION.fullmatch(action)) or (service == "kms" and action in _KMS_CRYPTO)


def s3_target(environ: WSGIEnvironment, known_buckets: set[str]) -> tuple[str | None, str | None]:
    """The bucket and key an S3 request names: virtual-hosted (`bucket.host`) when the host's first label
    is a bucket, else path-style (`/bucket/key`); the key is None for a bucket-level request."""
    path = str(environ.get("PATH_INFO", "")).encode("latin-1").decode("utf-8", "replace")
    host = str(environ.get("HTTP_HOST", "")).split(":")[0]
    label = host.split(".")[0] if "." in host else ""
    path = path[1:] if path.startswith("/") else path  # one slash only: a key may itself start with "/"
    if label and label in known_buckets:
        return label, path or None
    bucket, _, key = path.partition("/")
    return bucket or None, key or None
