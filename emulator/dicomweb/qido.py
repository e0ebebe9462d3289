"""QIDO-RS: searching studies, series and instances (docs/dicomweb.md#qido-rs).

Every search reads the DICOMweb index (emulator/store/dicomweb_index.py) in one snapshot: primary
image sets only, or the one `imageSetId` names. Results are `application/dicom+json`; a search that
matches nothing is 204 No Content, as PS3.18 says for zero results (the developer guide is silent).
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Response

from ahi.emulator.dicomweb import qido_params
from ahi.emulator.dicomweb.instances import image_set_parameter
from ahi.emulator.dicomweb.media import parse_accept
from ahi.emulator.dicomweb.qido_results import ResultSet
from ahi.emulator.dicomweb.route import DicomwebRequest, Handler, Route
from ahi.emulator.errors import NotAcceptableException
from ahi.emulator.store import dicomweb_search
from ahi.emulator.store.dicomweb_search import Equal, Level, QidoQuery

CONTENT_TYPE = "application/dicom+json"
#: Media ranges a search may name in Accept. Every range listed must be one of these: the service is
#: strict, an Accept mixing in another type (a multipart one, say) is refused (docs/dicomweb.md#qido-rs).
ACCEPTABLE = frozenset({CONTENT_TYPE, "application/json", "application/*", "*/*"})


def require_json_accept(call: DicomwebRequest) -> None:
    """406 NotAcceptableException unless every media range of the Accept header admits DICOM JSON."""
    for media_range in parse_accept(call.request.headers.get("Accept")):
        if media_range.weight > 0 and media_range.media_type not in ACCEPTABLE:
            raise NotAcceptableException(
                f"Search results are {CONTENT_TYPE}; the Accept header also asks for {media_range.media_type[:64]}, "
                "which a search cannot return"
            )


def _search(level: Level) -> Handler:
    def handle(call: DicomwebRequest) -> Response:
        require_json_accept(call)
        params = qido_params.parse(call.request.args, level)
        image_set_id = image_set_parameter(call)
        if params.offset >= qido_params.MAX_RECORDS:
            return Response(status=204)
        fixed = [
            Equal(column, (call.labels[label],)) for label, column in (("study", "study_uid"), ("series", "series_uid"))
            if label in call.labels
        ]
        query = QidoQuery(
            level=level,
            datastore_id=call.datastore_id,
            image_set_id=image_set_id,
            matches=(*fixed, *params.matches),
            limit=min(params.limit, qido_params.MAX_RECORDS - params.offset),
            offset=params.offset,
        )
        results = ResultSet(
            level=level,
            datastore_id=call.datastore_id,
            base_url=call.base_url,
            image_set_id=image_set_id,
            study_in_path="study" in call.labels,
            series_in_path="series" in call.labels,
            include=params.include,
        )
        with call.runtime.store.read() as conn:
            found = results.render(conn, dicomweb_search.search(conn, query))
        if not found:
            return Response(status=204)
        return Response(json.dumps(found, separators=(",", ":")), status=200, content_type=CONTENT_TYPE)

    return handle


ROUTES: list[Route] = [
    Route("/studies", ("GET",), "SearchDICOMStudies", _search("study")),
    Route("/studies/<study>/series", ("GET",), "SearchDICOMSeries", _search("series")),
    Route("/series", ("GET",), "SearchDICOMSeries", _search("series")),
    Route("/studies/<study>/series/<series>/instances", ("GET",), "SearchDICOMInstances", _search("instance")),
    Route("/studies/<study>/instances", ("GET",), "SearchDICOMInstances", _search("instance")),
    Route("/instances", ("GET",), "SearchDICOMInstances", _search("instance")),
]
