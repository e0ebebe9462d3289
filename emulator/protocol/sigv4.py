"""SigV4 verification over the raw path and the exact Host, for every service on the port.

Only headers named in SignedHeaders are canonicalised. The payload hash is always the body's own
sha256 for JSON and query services; S3 signs the X-Amz-Content-SHA256 value instead, which must then
be the body's hash or one of the unsigned forms S3 accepts. Non-S3 SigV4 double-encodes the path,
as botocore does; S3 signs the path exactly as sent. The rules are in docs/signatures.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, unquote_plus

from botocore.utils import normalize_url_path

from ahi.emulator.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    PayloadHashMismatch,
    PresignedUrlExpired,
    SignatureExpired,
    UnrecognizedClientException,
    UnsupportedSigning,
)

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
#: The longest X-Amz-Expires SigV4 allows (seven days).
MAX_PRESIGN_EXPIRES = 604800
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
#: Payload hashes S3 accepts without a body hash: the body is then not covered by the signature.
S3_UNSIGNED_PAYLOADS = frozenset({UNSIGNED_PAYLOAD, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"})
#: What AWS's curl example for a DICOMweb store signs in place of the body's hash (the file is sent as is).
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#: Chunk-signed streaming uploads; not verified here, so refused (no client we support sends them over HTTP).
S3_SIGNED_STREAMING = frozenset({
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
})
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_PAYLOAD_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed."


@dataclass(frozen=True)
class CredentialScope:
    """`AKID/yyyymmdd/region/service/aws4_request` split into its parts."""

    access_key: str
    date: str
    region: str
    service: str

    @classmethod
    def parse(cls, text: str) -> CredentialScope | None:
        parts = text.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            return None
        return cls(*parts[:4])


def scope_from_headers(authorization: str, query_string: str) -> CredentialScope | None:
    """The credential scope of a header-signed or presigned request, reading nothing but these two strings."""
    if authorization.startswith(ALGORITHM):
        match = re.search(r"Credential=([^,\s]+)", authorization)
        return CredentialScope.parse(match.group(1)) if match else None
    for pair in query_string.split("&"):
        key, _, value = pair.partition("=")
        if key == "X-Amz-Credential":
            return CredentialScope.parse(unquote(value))
    return None


@dataclass(frozen=True)
class Principal:
    """Who a verified request is from: its access key, the account that key belongs to, and its scope."""

    access_key: str
    account_id: str
    region: str
    service: str


@dataclass(frozen=True)
class SignedRequest:
    """The parts of a request as it arrived that the signature covers."""

    method: str
    raw_path: str
    query_string: str
    headers: Mapping[str, str]  # case-insensitive mapping (Werkzeug Headers)
    body: bytes = b""
    #: The body's sha256 (hex), computed only when asked; when absent, the hash of `body`.
    body_sha256: Callable[[], str] | None = None
    #: A DICOMweb store, which may sign the streaming marker instead of the body (docs/dicomweb.md#stow-rs).
    streaming_payload: bool = False

    def payload_sha256(self) -> str:
        return self.body_sha256() if self.body_sha256 is not None else hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class AccessKey:
    """What the endpoint knows of one access key id; temporary keys also need their session token."""

    secret: str = field(repr=False)
    account_id: str
    session_token: str | None = field(default=None, repr=False)

    def check_token(self, sent: str | None) -> None:
        """A temporary key is only good with the session token it was issued with."""
        if self.session_token is not None and not hmac.compare_digest((sent or "").encode(), self.session_token.encode()):
            raise UnrecognizedClientException("The security token included in the request is invalid.")


#: An access key id -> what the endpoint knows of it, or None for a key nobody issued.
KeyLookup = Callable[[str], "AccessKey | None"]


@dataclass(frozen=True)
class Verifier:
    """Checks SigV4 against the configured keys (one account), a shared secret, and any extra key lookup."""

    secrets: Mapping[str, str] = field(repr=False)
    shared_secret: str | None = field(default=None, repr=False)
    #: Largest distance between X-Amz-Date and the clock; None turns every clock check off (frozen-clock tests).
    max_skew: dt.timedelta | None = None
    #: The account of the configured keys and of the shared secret.
    account_id: str = "123456789012"
    #: Keys issued elsewhere (moto's IAM), consulted after the configured ones.
    lookup: KeyLookup | None = None

    def key(self, access_key: str) -> AccessKey | None:
        """The secret and account of an access key id, if the endpoint knows it."""
        if access_key in self.secrets:
            return AccessKey(self.secrets[access_key], self.account_id)
        found = self.lookup(access_key) if self.lookup is not None else None
        if found is not None:
            return found
        return AccessKey(self.shared_secret, self.account_id) if self.shared_secret is not None else None

    def verify(self, request: SignedRequest, now: dt.datetime | None = None) -> Principal:
        """The verified principal; a missing, wrong, stale or mismatched signature raises AWS's error for it."""
        query = _query_pairs(request.query_string)
        presigned = any(key == "X-Amz-Signature" for key, _ in query)
        expires: int | None = None
        fields: dict[str, str] = {}
        if presigned:
            fields = {key: unquote(value) for key, value in query}
            if fields.get("X-Amz-Algorithm") != ALGORITHM:
                raise IncompleteSignatureException(f"X-Amz-Algorithm must be {ALGORITHM}.")
            credential, signed, signature = (
                fields.get("X-Amz-Credential", ""), fields.get("X-Amz-SignedHeaders", ""), fields["X-Amz-Signature"]
            )
            amz_date = fields.get("X-Amz-Date", "")
            expires = _presign_expires(fields.get("X-Amz-Expires"))
            query = [(k, v) for k, v in query if k != "X-Amz-Signature"]
        else:
            authorization = request.headers.get("Authorization", "")
            if not authorization:
                raise MissingAuthenticationTokenException("Missing Authentication Token")
            match = _AUTH.match(authorization)
            if match is None:
                raise IncompleteSignatureException(
                    "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters "
                    f"of the {ALGORITHM} algorithm."
                )
            credential, signed, signature = match["credential"], match["signed"], match["signature"]
            amz_date = request.headers.get("X-Amz-Date", "")
        scope = CredentialScope.parse(credential)
        if scope is None:
            raise IncompleteSignatureException(f"Credential should be scoped correctly: '{credential}'")
        key = self.key(scope.access_key)
        if key is None:
            raise UnrecognizedClientException("The security token included in the request is invalid.")
        key.check_token(fields.get("X-Amz-Security-Token") if presigned else request.headers.get("X-Amz-Security-Token"))
        timestamp = _parse_amz_date(amz_date)
        if scope.date != amz_date[:8]:
            raise InvalidSignatureException(
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{scope.date}' != '{amz_date[:8]}', from 'X-Amz-Date'."
            )
        self._check_clock(amz_date, timestamp, expires, now)
        names = [name for name in signed.lower().split(";") if name]
        if "host" not in names:
            raise InvalidSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.")
        is_s3 = scope.service == "s3"
        payload = _s3_payload(request, presigned) if is_s3 else _body_payload(request)
        canonical = canonical_request(request, query, names, payload, s3=is_s3)
        expected = signature_for(key.secret, scope, amz_date, canonical)
        if not hmac.compare_digest(expected, signature.lower()):
            raise InvalidSignatureException(_MISMATCH)
        if is_s3 and _SHA256_HEX.fullmatch(payload) and payload.lower() != request.payload_sha256():
            raise PayloadHashMismatch(_PAYLOAD_MISMATCH)
        return Principal(scope.access_key, key.account_id, scope.region, scope.service)

    def _check_clock(self, amz_date: str, timestamp: dt.datetime, expires: int | None, now: dt.datetime | None) -> None:
        if self.max_skew is None:
            return
        current = now or dt.datetime.now(dt.timezone.utc)
        minutes = int(self.max_skew.total_seconds() // 60)
        stamp = current.strftime(AMZ_DATE_FORMAT)
        if timestamp - current > self.max_skew:
            raise SignatureExpired(
                f"Signature not yet current: {amz_date} is still later than "
                f"{(current + self.max_skew).strftime(AMZ_DATE_FORMAT)} ({stamp} + {minutes} min.)"
            )
        if expires is not None:
            if current > timestamp + dt.timedelta(seconds=expires):
                raise PresignedUrlExpired(
                    f"Signature expired: {amz_date} + {expires} s is now earlier than {stamp}."
                )
        elif current - timestamp > self.max_skew:
            raise SignatureExpired(
                f"Signature expired: {amz_date} is now earlier than "
                f"{(current - self.max_skew).strftime(AMZ_DATE_FORMAT)} ({stamp} - {minutes} min.)"
            )


def _body_payload(request: SignedRequest) -> str:
    """JSON and query services sign the body itself; a payload hash header, when sent, must agree with it."""
    claimed = request.headers.get("X-Amz-Content-SHA256")
    if request.streaming_payload and claimed == STREAMING_PAYLOAD:
        return claimed
    body_hash = request.payload_sha256()
    if claimed is not None and claimed.lower() != body_hash:
        raise PayloadHashMismatch(_PAYLOAD_MISMATCH)
    return body_hash


def _s3_payload(request: SignedRequest, presigned: bool) -> str:
    """The payload hash S3 signs: UNSIGNED-PAYLOAD for presigned URLs, else the X-Amz-Content-SHA256 header."""
    if presigned:
        return UNSIGNED_PAYLOAD
    claimed = request.headers.get("X-Amz-Content-SHA256")
    if claimed is None:
        raise IncompleteSignatureException("Missing required header for this request: x-amz-content-sha256")
    if claimed in S3_SIGNED_STREAMING:
        raise UnsupportedSigning(
            f"A header you provided implies functionality that is not implemented: x-amz-content-sha256 {claimed} "
            "(chunk-signed uploads are not verified by the local endpoint; sign the whole payload instead)."
        )
    if claimed not in S3_UNSIGNED_PAYLOADS and not _SHA256_HEX.fullmatch(claimed):
        raise IncompleteSignatureException(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
            "or a valid sha256 value."
        )
    return claimed


def _presign_expires(value: str | None) -> int:
    if value is None or not value.isdigit() or len(value) > 7:
        raise IncompleteSignatureException("X-Amz-Expires must be a whole number of seconds.")
    expires = int(value)
    if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise IncompleteSignatureException(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}."
        )
    return expires


def canonical_request(
    request: SignedRequest, query: list[tuple[str, str]], names: list[str], payload: str, *, s3: bool = False
) -> str:
    """The SigV4 canonical request, built from the raw path and only the signed headers."""
    path = (request.raw_path or "/") if s3 else quote(normalize_url_path(request.raw_path or "/"), safe="/~")
    # A received `+` is a space, as a form-encoded query reads (docs/signatures.md#paths-and-queries).
    pairs = sorted((_encode(unquote_plus(k)), _encode(unquote_plus(v))) for k, v in query)
    headers = "".join(f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in sorted(names))
    return "\n".join(
        [request.method.upper(), path, "&".join(f"{k}={v}" for k, v in pairs), headers, ";".join(sorted(names)), payload]
    )


def signature_for(secret: str, scope: CredentialScope, amz_date: str, canonical: str) -> str:
    """HMAC chain of SigV4 over the string to sign."""
    credential_scope = f"{scope.date}/{scope.region}/{scope.service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, credential_scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
    )
    key = f"AWS4{secret}".encode("utf-8")
    for part in (scope.date, scope.region, scope.service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _parse_amz_date(amz_date: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise IncompleteSignatureException(
            "Authorization requires a valid X-Amz-Date in the form yyyyMMdd'T'HHmmss'Z'."
        ) from None


def _query_pairs(query_string: str) -> list[tuple[str, str]]:
    return [(k, v) for k, _, v in (pair.partition("=") for pair in query_string.split("&") if pair)]


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")
