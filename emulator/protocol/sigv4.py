"""Optional SigV4 verification of medical-imaging requests, over the raw path and the exact Host.

Only headers named in SignedHeaders are canonicalised; the payload hash is X-Amz-Content-SHA256 when
present, else sha256 of the exact body bytes. Non-S3 SigV4 double-encodes the path, as botocore does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from botocore.utils import normalize_url_path

from emulator.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


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
class SignedRequest:
    """The parts of a request as it arrived that the signature covers."""

    method: str
    raw_path: str
    query_string: str
    headers: Mapping[str, str]  # case-insensitive mapping (Werkzeug Headers)
    body: bytes


@dataclass(frozen=True)
class Verifier:
    """Checks signatures against a secrets map, or one shared secret for any access key id."""

    secrets: Mapping[str, str]
    shared_secret: str | None = None
    max_skew: dt.timedelta | None = None

    def verify(self, request: SignedRequest, now: dt.datetime | None = None) -> CredentialScope:
        """The verified credential scope; a missing or wrong signature raises the code AWS answers with (403)."""
        query = _query_pairs(request.query_string)
        presigned = any(key == "X-Amz-Signature" for key, _ in query)
        if presigned:
            fields = {key: unquote(value) for key, value in query}
            credential, signed, signature = (
                fields.get("X-Amz-Credential", ""), fields.get("X-Amz-SignedHeaders", ""), fields["X-Amz-Signature"]
            )
            amz_date = fields.get("X-Amz-Date", "")
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
        secret = self.secrets.get(scope.access_key, self.shared_secret)
        if secret is None:
            raise UnrecognizedClientException("The security token included in the request is invalid.")
        timestamp = _parse_amz_date(amz_date)
        if scope.date != amz_date[:8]:
            raise InvalidSignatureException(
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{scope.date}' != '{amz_date[:8]}', from 'X-Amz-Date'."
            )
        self._check_skew(amz_date, timestamp, now)
        names = [name for name in signed.lower().split(";") if name]
        if "host" not in names:
            raise InvalidSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.")
        canonical = canonical_request(request, query, names, presigned)
        expected = signature_for(secret, scope, amz_date, canonical)
        if not hmac.compare_digest(expected, signature.lower()):
            raise InvalidSignatureException(_MISMATCH)
        return scope

    def _check_skew(self, amz_date: str, timestamp: dt.datetime, now: dt.datetime | None) -> None:
        if self.max_skew is None:
            return
        current = now or dt.datetime.now(dt.timezone.utc)
        if abs(current - timestamp) > self.max_skew:
            minutes = int(self.max_skew.total_seconds() // 60)
            bound = (current - self.max_skew).strftime(AMZ_DATE_FORMAT)
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than {bound} "
                f"({current.strftime(AMZ_DATE_FORMAT)} - {minutes} min.)"
                if timestamp < current
                else f"Signature not yet current: {amz_date} is still later than "
                f"{(current + self.max_skew).strftime(AMZ_DATE_FORMAT)} ({current.strftime(AMZ_DATE_FORMAT)} + {minutes} min.)"
            )


def canonical_request(request: SignedRequest, query: list[tuple[str, str]], names: list[str], presigned: bool) -> str:
    """The SigV4 canonical request, built from the raw path and only the signed headers."""
    path = quote(normalize_url_path(request.raw_path or "/"), safe="/~")
    pairs = sorted((_encode(unquote(k)), _encode(unquote(v))) for k, v in query)
    headers = "".join(f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in sorted(names))
    payload = request.headers.get("X-Amz-Content-SHA256") or hashlib.sha256(request.body).hexdigest()
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
