"""STOW-RS: storing instances with POST /studies and /studies/{study} (docs/dicomweb.md#stow-rs).

Synchronous: the response says what was stored once it is committed. The body is read part by part
to disk (emulator/dicomweb/stow_body.py), each part goes through the import pipeline, and whatever
the request staged but did not commit is removed before it answers.
"""

from __future__ import annotations

from pathlib import Path

from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response

from ahi.emulator.dicomweb.route import DicomwebRequest, Route
from ahi.emulator.dicomweb.stow_body import check_declared_length, read_body
from ahi.emulator.dicomweb.wado import DICOM_JSON
from ahi.emulator.errors import NotAcceptableException, ValidationException

#: What a store response may be served as: DICOM JSON (XML is not offered, as on HealthImaging).
_ACCEPTED = ("*/*", "application/*", DICOM_JSON, "application/json")


def _check_accept(header: str | None) -> None:
    if not header:
        return
    offered = [value.split(";")[0].strip().lower() for value, quality in parse_accept_header(header) if quality > 0]
    if not any(value in _ACCEPTED for value in offered):
        raise NotAcceptableException(f"A store response is {DICOM_JSON}; the Accept header {header} does not admit it.")


def store(call: DicomwebRequest) -> Response:
    """StoreDICOM and StoreDICOMStudy."""
    # Here, not at the top: they load pydicom and numpy, half a second the endpoint's start does not need (docs/startup.md).
    from ahi.emulator.dicomweb.stow_response import store_response
    from ahi.emulator.dicomweb.stow_store import new_staging, store_parts
    from ahi.emulator.imports.pipeline import Destination

    request = call.request
    _check_accept(request.headers.get("Accept"))
    check_declared_length(request.headers.get("Content-Length"))
    if "aws-chunked" in request.headers.get("Content-Encoding", "").lower():
        # curl, as the guide uses it, signs the streaming marker but sends the file as is; chunk framing is ours to refuse.
        raise ValidationException(
            "Content-Encoding aws-chunked is not accepted by the local endpoint; send the body as is."
        )
    study_uid = call.labels.get("study")
    runtime = call.runtime
    runner = runtime.imports.runner
    destination = Destination(call.account_id, call.region, call.datastore_id, new_staging())
    try:
        with read_body(request.stream, request.headers.get("Content-Type")) as body:
            if not body.parts:
                raise ValidationException("The multipart body holds no part: there is nothing to store.")
            outcome = store_parts(runner.pipeline, runner.pool, runner.workers, destination, body, study_uid)
    finally:
        with runtime.store.read() as conn:
            runtime.frames.discard_orphans(conn, destination.staging)
        _remove_folder(runtime.frames.root / "jobs" / destination.staging)
    return store_response(call.base_url, outcome, study_uid)


def _remove_folder(folder: Path) -> None:
    """The request's staging folder, if nothing of it was committed."""
    try:
        folder.rmdir()
    except OSError:
        pass


ROUTES: list[Route] = [
    Route("/studies", ("POST",), "StoreDICOM", store),
    Route("/studies/<study>", ("POST",), "StoreDICOMStudy", store),
]
