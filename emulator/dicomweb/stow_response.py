"""The STOW-RS response: PS3.18's Store Instances Response Module as DICOM JSON (docs/dicomweb.md#stow-rs)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Response

from ahi.emulator.dicomweb.stow_store import Outcome, Stored

DICOM_JSON = "application/dicom+json"
RETRIEVE_URL = "00081190"
FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_SEQUENCE = "00081199"
REFERENCED_SOP_CLASS = "00081150"
REFERENCED_SOP_INSTANCE = "00081155"
FAILURE_REASON = "00081197"
WARNING_REASON = "00081196"


def _element(vr: str, value: Any) -> dict[str, Any]:
    return {"vr": vr, "Value": [value]}


def _uid(item: dict[str, Any], tag: str, value: str | None) -> None:
    if value:
        item[tag] = _element("UI", value)


def instance_url(base: str, stored: Stored) -> str:
    """Where the stored instance is retrieved; a non-primary one is only found with its image set's ID."""
    url = (
        f"{base}/studies/{quote(stored.study_uid, safe='')}/series/{quote(stored.series_uid, safe='')}"
        f"/instances/{quote(stored.sop_instance_uid, safe='')}"
    )
    return url if stored.is_primary else f"{url}?imageSetId={stored.image_set_id}"


def response_body(base: str, outcome: Outcome, study_uid: str | None) -> dict[str, Any]:
    """The response data set; `base` is the data store's DICOMweb URL, `study_uid` the request's target study."""
    body: dict[str, Any] = {}
    studies = {stored.study_uid for stored in outcome.stored}
    study = study_uid or (next(iter(studies)) if len(studies) == 1 else None)
    if study:
        body[RETRIEVE_URL] = _element("UR", f"{base}/studies/{quote(study, safe='')}")
    if outcome.failed:
        items = []
        for failed in outcome.failed:
            item: dict[str, Any] = {}
            _uid(item, REFERENCED_SOP_CLASS, failed.sop_class_uid)
            _uid(item, REFERENCED_SOP_INSTANCE, failed.sop_instance_uid)
            item[FAILURE_REASON] = _element("US", failed.reason)
            items.append(item)
        body[FAILED_SOP_SEQUENCE] = {"vr": "SQ", "Value": items}
    if outcome.stored:
        references = []
        for stored in outcome.stored:
            item = {}
            _uid(item, REFERENCED_SOP_CLASS, stored.sop_class_uid)
            _uid(item, REFERENCED_SOP_INSTANCE, stored.sop_instance_uid)
            item[RETRIEVE_URL] = _element("UR", instance_url(base, stored))
            if stored.warnings:  # the import's caveats, as QIDO-RS reports them too
                item[WARNING_REASON] = {"vr": "US", "Value": list(stored.warnings)}
            references.append(item)
        body[REFERENCED_SOP_SEQUENCE] = {"vr": "SQ", "Value": references}
    return body


def store_response(base: str, outcome: Outcome, study_uid: str | None) -> Response:
    """200 when every instance was stored, 409 when any was not (the guide's clients read both as answers)."""
    status = 409 if outcome.failed else 200
    body = json.dumps(response_body(base, outcome, study_uid), separators=(",", ":"))
    return Response(body, status=status, content_type=DICOM_JSON)
