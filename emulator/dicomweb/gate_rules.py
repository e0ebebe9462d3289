"""What the signature gate does differently for a DICOMweb request (docs/dicomweb.md#stow-rs, #bearer-tokens).

Decided from the method, path and headers alone, before any body is read: a store takes a body of up
to 1 GB (the HTTP server's limit for it) and may be signed over the streaming marker of AWS's curl
example instead of the body's hash; a request carrying a bearer token skips SigV4 and is checked by the
DICOMweb app against the data store's token rules.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: `POST /datastore/{id}/studies` and `/datastore/{id}/studies/{study}` (StoreDICOM, StoreDICOMStudy).
_STORE_PATH = re.compile(r"^/datastore/[^/]+/studies(/[^/]+)?/?$")
BEARER = "bearer "


def is_store_request(method: str, path: str) -> bool:
    """A STOW-RS request: its body may be up to 1 GB, and may be signed as a stream."""
    return method.upper() == "POST" and bool(_STORE_PATH.match(path))


def is_store(environ: WSGIEnvironment, path: str) -> bool:
    """`is_store_request` for a WSGI request."""
    return is_store_request(str(environ.get("REQUEST_METHOD", "")), path)


def has_bearer(environ: WSGIEnvironment) -> bool:
    """An OIDC request: `Authorization: Bearer <token>` instead of a SigV4 signature."""
    return str(environ.get("HTTP_AUTHORIZATION", "")).lower().startswith(BEARER)
