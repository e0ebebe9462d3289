"""S3's older signature (HMAC-SHA1), which boto3 still uses for S3 presigned URLs by default.

Verified only for S3, as AWS accepts it only there: `Authorization: AWS AKID:signature` with a Date
header, or `?AWSAccessKeyId=&Signature=&Expires=` query auth. The string to sign is S3's: method,
Content-MD5, Content-Type, Date (or Expires), the x-amz-* headers, then the path as sent with the
sub-resources S3 lists (docs/signatures.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
from urllib.parse import unquote

from botocore.auth import HmacV1Auth

from ahi.emulator.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    PresignedUrlExpired,
    SignatureExpired,
    UnrecognizedClientException,
)
from ahi.emulator.protocol.sigv4 import Principal, SignedRequest, Verifier

_SUBRESOURCES = frozenset(HmacV1Auth.QSAOfInterest)
_MISMATCH = "The request signature we calculated does not match the signature you provided."


def is_sigv2(authorization: str, query_string: str) -> bool:
    """Signed with S3's HMAC-SHA1 scheme, in the header or the query."""
    if authorization.startswith("AWS ") and ":" in authorization:
        return True
    keys = {pair.partition("=")[0] for pair in query_string.split("&")}
    return {"AWSAccessKeyId", "Signature"} <= keys


def verify_sigv2(verifier: Verifier, request: SignedRequest, now: dt.datetime | None = None) -> Principal:
    """The verified principal of an S3 SigV2 request (region us-east-1, as the scheme names none)."""
    pairs = [(k, unquote(v)) for k, _, v in (p.partition("=") for p in request.query_string.split("&") if p)]
    query = dict(pairs)
    current = now or dt.datetime.now(dt.timezone.utc)
    amz_headers = {k.lower(): v.strip() for k, v in request.headers.items() if k.lower().startswith("x-amz-")}
    if "Signature" in query:
        access_key, signature, date_line = query.get("AWSAccessKeyId", ""), query["Signature"], query.get("Expires", "")
        if not date_line.isdigit() or len(date_line) > 12:
            raise IncompleteSignatureException("Query-string authentication requires the Expires parameter.")
        if verifier.max_skew is not None and current.timestamp() > int(date_line):
            raise PresignedUrlExpired("Request has expired")
        amz_headers.update({k.lower(): v for k, v in pairs if k.lower().startswith("x-amz-")})
    else:
        access_key, _, signature = request.headers.get("Authorization", "")[4:].strip().rpartition(":")
        date_line = request.headers.get("Date", "")
        _check_date(verifier, amz_headers.get("x-amz-date") or date_line, current)
    key = verifier.key(access_key)
    if key is None:
        raise UnrecognizedClientException("The AWS Access Key Id you provided does not exist in our records.")
    key.check_token(amz_headers.get("x-amz-security-token"))
    string_to_sign = "\n".join([
        request.method.upper(),
        request.headers.get("Content-MD5", "").strip(),
        request.headers.get("Content-Type", "").strip(),
        date_line,
        *(f"{name}:{amz_headers[name]}" for name in sorted(amz_headers)),
        _resource(request.raw_path or "/", request.query_string),
    ])
    expected = base64.b64encode(hmac.new(key.secret.encode(), string_to_sign.encode("utf-8"), hashlib.sha1).digest())
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        raise InvalidSignatureException(_MISMATCH)
    return Principal(access_key, key.account_id, "us-east-1", "s3")


def _resource(path: str, query_string: str) -> str:
    """The path as sent (a bare bucket as `/bucket/`), then the sub-resources S3 signs, sorted, values unquoted."""
    if path.count("/") == 1 and path != "/":
        path += "/"
    wanted = [pair.split("=", 1) for pair in query_string.split("&") if pair]
    wanted = [[k, unquote(v[0])] if v else [k] for k, *v in wanted if k in _SUBRESOURCES]
    if not wanted:
        return path
    return path + "?" + "&".join("=".join(item) for item in sorted(wanted, key=lambda item: item[0]))


def _check_date(verifier: Verifier, text: str, current: dt.datetime) -> None:
    try:
        stamp = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise IncompleteSignatureException("AWS authentication requires a valid Date or x-amz-date header") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    if verifier.max_skew is not None and abs(current - stamp) > verifier.max_skew:
        raise SignatureExpired("The difference between the request time and the current time is too large.")
