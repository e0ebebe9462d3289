"""WADO-RS: instances, metadata, frames and bulk data (docs/dicomweb.md#wado-rs).

Every retrieve resolves its instance (or series) through the DICOMweb index with the `imageSetId`
rule, reads the image set's latest document and counts as an access to that image set (storage tiers).
Which representation a request gets follows its Accept header (emulator/dicomweb/media.py).
The pixel code (numpy, pydicom, the codecs) is imported by the handlers that serve pixels, not here:
the endpoint imports these routes at start and loads no imaging library until one is used (docs/startup.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Response

from ahi.emulator.dicom.stored_syntaxes import EXPLICIT_VR_LITTLE_ENDIAN, HTJ2K_LOSSLESS_RPCL
from ahi.emulator.dicomweb.frames_out import ANY_SYNTAX, FRAME_MEDIA_TYPES, PixelShape, servable
from ahi.emulator.dicomweb.instances import (
    IMAGE_SET_PARAMETER,
    StoredInstance,
    frame_ref,
    image_set_parameter,
    load_instance,
    load_series,
    served,
)
from ahi.emulator.dicomweb.media import MediaRange, negotiate
from ahi.emulator.dicomweb.multipart import Part, multipart_response
from ahi.emulator.dicomweb.route import DicomwebRequest, Route
from ahi.emulator.dicomweb.wado_json import PIXEL_DATA_PATH, bulk_data_key, bulk_value, instance_json
from ahi.emulator.errors import ResourceNotFoundException, ValidationException

DICOM = "application/dicom"
DICOM_JSON = "application/dicom+json"
OCTET_STREAM = "application/octet-stream"
MULTIPART = "multipart/related"
_ANY = ("*/*", "application/*")
FRAME_LIST_PARAMETER = "frameList"


@dataclass(frozen=True)
class Representation:
    """What a retrieve answers with: multipart or a single body, the part media type and the transfer syntax."""

    multipart: bool
    media_type: str
    syntax: str


# -- GetDICOMInstance -------------------------------------------------------------------------------


def get_instance(call: DicomwebRequest) -> Response:
    instance = load_instance(call)
    shape = PixelShape.of(instance.attributes)

    def offer(media_range: MediaRange) -> Representation | None:
        if media_range.media_type == MULTIPART:
            if (media_range.part_type or DICOM) not in (DICOM, "*/*"):
                return None
            multipart = True
        elif media_range.media_type in (DICOM, *_ANY):
            multipart = False
        else:
            return None
        target = servable(instance.stored_syntax, media_range.transfer_syntax or EXPLICIT_VR_LITTLE_ENDIAN, shape)
        return None if target is None else Representation(multipart, DICOM, target)

    chosen = negotiate(call.request.headers.get("Accept"), offer, f"Instance {instance.sop_uid}")
    from ahi.emulator.dicomweb.part10 import part10

    read = _frame_reader(call, instance)
    data = part10(instance.attributes, instance.vrs, instance.stored_syntax, chosen.syntax, len(instance.frames), read)
    content_type = f"{DICOM}; transfer-syntax={chosen.syntax}"
    served(call, [instance])
    if chosen.multipart:
        part = Part(content_type, _instance_url(call, instance), lambda: data)
        return multipart_response([part], DICOM, call.operation, call.request_id)
    return Response(data, status=200, content_type=content_type)


# -- GetDICOMInstanceMetadata, GetDICOMSeriesMetadata -----------------------------------------------


def get_instance_metadata(call: DicomwebRequest) -> Response:
    instance = load_instance(call)
    _negotiate_json(call, f"The metadata of instance {instance.sop_uid}")
    served(call, [instance])
    return _json_response([_metadata(call, instance)])


def get_series_metadata(call: DicomwebRequest) -> Response:
    instances = load_series(call)
    _negotiate_json(call, f"The metadata of series {call.labels['series']}")
    served(call, instances)
    return _json_response([_metadata(call, instance) for instance in instances])


def _negotiate_json(call: DicomwebRequest, what: str) -> None:
    def offer(media_range: MediaRange) -> str | None:
        known = (DICOM_JSON, "application/json", *_ANY)
        return DICOM_JSON if media_range.media_type in known and media_range.transfer_syntax is None else None

    negotiate(call.request.headers.get("Accept"), offer, what)


def _metadata(call: DicomwebRequest, instance: StoredInstance) -> dict[str, Any]:
    base = _instance_url(call, instance)
    suffix = _image_set_query(call)
    return instance_json(
        instance.attributes,
        instance.vrs,
        instance.stored_syntax,
        lambda tag_path: f"{base}/bulkdata/{bulk_data_key(tag_path)}{suffix}",
    )


def _json_response(items: list[dict[str, Any]]) -> Response:
    body = json.dumps(items, separators=(",", ":")).encode("utf-8")
    return Response(body, status=200, content_type=DICOM_JSON)


# -- GetDICOMInstanceFrames ------------------------------------------------------------------------


def get_frames(call: DicomwebRequest) -> Response:
    from ahi.emulator.dicomweb.frame_pixels import frame_in

    numbers = parse_frame_list(call.labels["frames"])
    instance = load_instance(call)
    count = len(instance.frames)
    missing = [number for number in numbers if number > count]
    if missing:
        raise ResourceNotFoundException(
            f"Frame {missing[0]} does not exist in instance {instance.sop_uid}, which has {count} frame(s)"
        )
    shape = PixelShape.of(instance.attributes)
    stored = instance.stored_syntax

    def offer(media_range: MediaRange) -> Representation | None:
        if media_range.media_type in _ANY:
            part_type: str | None = None
        elif media_range.media_type == MULTIPART:
            part_type = media_range.part_type
        else:
            return None
        target = _frame_syntax(stored, part_type, media_range.transfer_syntax, shape)
        return None if target is None else Representation(True, FRAME_MEDIA_TYPES[target], target)

    chosen = negotiate(call.request.headers.get("Accept"), offer, f"The frames of instance {instance.sop_uid}")
    refs = {number: frame_ref(call, instance, number) for number in numbers}
    frames = call.runtime.frames
    base = _instance_url(call, instance)
    content_type = f"{chosen.media_type}; transfer-syntax={chosen.syntax}"

    def content(number: int) -> Callable[[], bytes]:
        return lambda: frame_in(frames.read(refs[number].path), stored, chosen.syntax, shape)

    parts = [Part(content_type, f"{base}/frames/{number}", content(number)) for number in numbers]
    served(call, [instance])
    return multipart_response(parts, chosen.media_type, call.operation, call.request_id)


def _frame_syntax(stored: str, part_type: str | None, requested: str | None, shape: PixelShape) -> str | None:
    """The syntax frames are served in for one multipart range (docs/dicomweb.md#accept), or None."""
    generic = part_type in (None, "*/*", OCTET_STREAM)
    if requested == ANY_SYNTAX:
        # OHIF asks for `type=application/octet-stream; transfer-syntax=*` and reads each part's own type.
        return stored if generic or FRAME_MEDIA_TYPES.get(stored) == part_type else None
    if requested is None:
        if generic:
            return EXPLICIT_VR_LITTLE_ENDIAN
        if FRAME_MEDIA_TYPES.get(stored) == part_type:
            return stored
        return servable(stored, HTJ2K_LOSSLESS_RPCL, shape) if part_type == "image/jphc" else None
    target = servable(stored, requested, shape)
    if target is None:
        return None
    media = FRAME_MEDIA_TYPES.get(target)
    return target if part_type in (None, "*/*") or media == part_type else None


def parse_frame_list(text: str) -> list[int]:
    """`1,2,3`: one or more distinct frame numbers from 1 (ValidationException naming frameList otherwise)."""
    numbers: dict[int, None] = {}
    for token in text.split(","):
        token = token.strip()
        if not (token.isascii() and token.isdigit()) or int(token) < 1:
            raise ValidationException(f"{FRAME_LIST_PARAMETER} must be frame numbers from 1, separated by commas")
        number = int(token)
        if number in numbers:
            raise ValidationException(f"{FRAME_LIST_PARAMETER} names frame {number} twice")
        numbers[number] = None
    return list(numbers)


# -- GetDICOMBulkdata -------------------------------------------------------------------------------


def get_bulkdata(call: DicomwebRequest) -> Response:
    instance = load_instance(call)
    key = call.labels["key"]
    shape = PixelShape.of(instance.attributes)

    def offer(media_range: MediaRange) -> Representation | None:
        if media_range.transfer_syntax not in (None, ANY_SYNTAX, EXPLICIT_VR_LITTLE_ENDIAN):
            return None
        if media_range.media_type == MULTIPART and media_range.part_type in (None, "*/*", OCTET_STREAM):
            return Representation(True, OCTET_STREAM, EXPLICIT_VR_LITTLE_ENDIAN)
        if media_range.media_type in (OCTET_STREAM, *_ANY):
            return Representation(False, OCTET_STREAM, EXPLICIT_VR_LITTLE_ENDIAN)
        return None

    if key == bulk_data_key(PIXEL_DATA_PATH) and "PixelData" in instance.attributes:
        from ahi.emulator.dicomweb.frame_pixels import frame_in

        chosen = negotiate(call.request.headers.get("Accept"), offer, "Bulk data")
        read = _frame_reader(call, instance)
        stored = instance.stored_syntax
        data = b"".join(
            frame_in(read(number), stored, EXPLICIT_VR_LITTLE_ENDIAN, shape) for number in range(1, len(instance.frames) + 1)
        )
    else:
        found = bulk_value(instance.attributes, instance.vrs, key)
        if found is None:
            raise ResourceNotFoundException(f"Bulk data {key} does not exist in instance {instance.sop_uid}")
        chosen = negotiate(call.request.headers.get("Accept"), offer, "Bulk data")
        data = found
    served(call, [instance])
    if chosen.multipart:
        location = f"{_instance_url(call, instance)}/bulkdata/{key}"
        part = Part(OCTET_STREAM, location, lambda: data)
        return multipart_response([part], OCTET_STREAM, call.operation, call.request_id)
    return Response(data, status=200, content_type=OCTET_STREAM)


# -- shared -----------------------------------------------------------------------------------------


def _frame_reader(call: DicomwebRequest, instance: StoredInstance) -> Callable[[int], bytes]:
    frames = call.runtime.frames
    return lambda number: frames.read(frame_ref(call, instance, number).path)


def _instance_url(call: DicomwebRequest, instance: StoredInstance) -> str:
    """The absolute URL of an instance under this data store's DICOMweb base."""
    base = call.base_url
    uids = (quote(instance.study_uid, safe=""), quote(instance.series_uid, safe=""), quote(instance.sop_uid, safe=""))
    return f"{base}/studies/{uids[0]}/series/{uids[1]}/instances/{uids[2]}"


def _image_set_query(call: DicomwebRequest) -> str:
    image_set_id = image_set_parameter(call)
    return "" if image_set_id is None else f"?{IMAGE_SET_PARAMETER}={image_set_id}"


_INSTANCE = "/studies/<study>/series/<series>/instances/<sop>"
ROUTES: list[Route] = [
    Route(_INSTANCE, ("GET",), "GetDICOMInstance", get_instance),
    Route(f"{_INSTANCE}/metadata", ("GET",), "GetDICOMInstanceMetadata", get_instance_metadata),
    Route("/studies/<study>/series/<series>/metadata", ("GET",), "GetDICOMSeriesMetadata", get_series_metadata),
    Route(f"{_INSTANCE}/frames/<frames>", ("GET",), "GetDICOMInstanceFrames", get_frames),
    Route(f"{_INSTANCE}/bulkdata/<key>", ("GET",), "GetDICOMBulkdata", get_bulkdata),
]
