"""One DICOMweb route and the request its handler receives (docs/dicomweb.md#routing).

None of DICOMweb is in botocore's model, so each module declares its routes here: a Werkzeug rule
relative to `/datastore/<datastoreId>`, its methods, the IAM action name it answers as, and a handler
that returns a Werkzeug Response or raises a ServiceError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from ahi.emulator.runtime import Runtime

_DEFAULT_PORTS = {"http": "80", "https": "443"}


@dataclass(frozen=True)
class DicomwebRequest:
    """A DICOMweb request once routed and authenticated, its data store checked ACTIVE."""

    runtime: Runtime
    account_id: str
    region: str
    request_id: str
    datastore_id: str
    #: The rule's other labels (study, series, sop, frames, ...), unquoted.
    labels: dict[str, str]
    #: The request itself: query args, headers, the body stream.
    request: Request
    #: The IAM action this route answers as (GetDICOMInstance, SearchDICOMStudies, StoreDICOM, ...).
    operation: str

    @property
    def base_url(self) -> str:
        """This data store's DICOMweb base as the client reached it (docs/dicomweb.md#urls-in-responses).

        `<scheme>://<Host>/datastore/<id>`; a Host header without a port, on an endpoint not on the
        scheme's default port, gets the port the request came in on (dicomweb-client leaves it out).
        """
        environ = self.request.environ
        host = str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "127.0.0.1")
        scheme = self.request.scheme
        port = str(environ.get("SERVER_PORT") or "")
        if ":" not in host.rpartition("]")[2] and port not in ("", _DEFAULT_PORTS.get(scheme)):
            host = f"{host}:{port}"
        return f"{scheme}://{host}/datastore/{self.datastore_id}"


Handler = Callable[[DicomwebRequest], Response]


@dataclass(frozen=True)
class Route:
    """A DICOMweb path: `rule` is relative to `/datastore/<datastoreId>`, e.g. `/studies/<study>/metadata`."""

    rule: str
    methods: tuple[str, ...]
    operation: str
    handler: Handler
