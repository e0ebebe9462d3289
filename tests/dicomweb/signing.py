"""A `requests` auth that signs each request with SigV4 for `medical-imaging`, as DICOMweb clients must.

Botocore's own signer (the one boto3 uses) signs the prepared request: method, URL with its query,
the headers requests will send and the body's hash. A streamed body (an iterator) is sent as
UNSIGNED-PAYLOAD, which the endpoint refuses when it verifies: sign bytes bodies.
Botocore signs a URL's query exactly as written, while AWS canonicalises the query it receives
(a `+` is a space, `,` is `%2C`: docs/signatures.md#paths-and-queries), so the query is rewritten in
canonical form before it is signed and sent.
"""

from __future__ import annotations

from urllib.parse import quote, unquote_plus, urlsplit

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "medical-imaging"
#: Headers requests adds that a signer must not cover (botocore leaves these unsigned too).
_UNSIGNED = frozenset({"connection", "user-agent", "accept-encoding", "content-length"})


def canonical_query(url: str) -> str:
    """The URL with each query name and value decoded and encoded again as SigV4 does (only `-_.~` left bare)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = (pair.partition("=") for pair in parts.query.split("&") if pair)
    query = "&".join(f"{_encode(name)}={_encode(value)}" for name, _, value in pairs)
    return parts._replace(query=query).geturl()


def _encode(text: str) -> str:
    return quote(unquote_plus(text), safe="-_.~")


class SigV4RequestsAuth(requests.auth.AuthBase):
    """Sign a requests.PreparedRequest with botocore's SigV4 signer."""

    def __init__(self, access_key: str, secret_key: str, region: str, session_token: str | None = None) -> None:
        self.credentials = Credentials(access_key, secret_key, session_token)
        self.region = region

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        body = prepared.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and not isinstance(body, (bytes, bytearray)):
            raise TypeError("SigV4RequestsAuth signs bytes bodies only")
        prepared.url = canonical_query(prepared.url or "")
        headers = {name: value for name, value in prepared.headers.items() if name.lower() not in _UNSIGNED}
        aws = AWSRequest(method=prepared.method, url=prepared.url, data=body or b"", headers=headers)
        SigV4Auth(self.credentials, SERVICE, self.region).add_auth(aws)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in aws.headers:
                prepared.headers[name] = aws.headers[name]
        return prepared


def signed_session(access_key: str, secret_key: str, region: str) -> requests.Session:
    """A requests.Session whose every request is SigV4-signed (give it to DICOMwebClient(session=...))."""
    session = requests.Session()
    session.auth = SigV4RequestsAuth(access_key, secret_key, region)
    return session
