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


Handler = Callable[[DicomwebRequest], Response]


@dataclass(frozen=True)
class Route:
    """A DICOMweb path: `rule` is relative to `/datastore/<datastoreId>`, e.g. `/studies/<study>/metadata`."""

    rule: str
    methods: tuple[str, ...]
    operation: str
    handler: Handler
