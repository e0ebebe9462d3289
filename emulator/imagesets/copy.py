"""CopyImageSet's documents: which instances to copy, and the destination's document afterwards.

`copiableAttributes` (docs/service.md#copying, docs/clients.md#the-python-wrapper) names SOP instances to copy:
`{"SchemaVersion": "1.1", "Study": {"Series": {<seriesUID>: {"Instances": {<sopUID>: {}, ...}}}}}`.
SOP Instance UIDs are unique within an image set, so an instance is found by its UID; the series key is
checked only when it names a series of the source (AWS's own Python example puts the literal
`"imageSetId"` there).

Merging into an existing image set needs Patient, Study and (for a series both hold) Series attributes
to agree, and no SOP instance may be in both; otherwise the copy fails with the guide's message
("INVALID_REQUEST: Series of SourceImageSet and DestinationImageSet don't match.") followed by which
keys differ or which instance clashes (keys and UIDs only, never values). With `force` the attributes
may differ and the destination keeps its own Patient, Study and Series attributes; a SOP instance in
both still fails the copy.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from ahi.emulator.errors import ValidationException
from ahi.emulator.imagesets.messages import invalid_request
from ahi.emulator.imagesets.patch import SCHEMA_VERSIONS, Outcome, PatchFailure, check_document

COPIABLE_MEMBER = "copyImageSetInformation.sourceImageSet.DICOMCopies.copiableAttributes"
#: ImageFrames copied per CopyImageSet request (docs/service.md#quotas).
MAX_COPIED_FRAMES = 1000
SERIES_MISMATCH = "Series of SourceImageSet and DestinationImageSet don't match."


@dataclass(frozen=True)
class Selection:
    """The SOP instances a copy takes: series key (as given) -> SOP Instance UIDs; None means all."""

    instances: dict[str, list[str]] | None = None


def parse_copiable(text: str | None) -> Selection:
    """`copiableAttributes` as a Selection; ValidationException naming the member when malformed."""
    if text is None:
        return Selection()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationException(f"{COPIABLE_MEMBER} is not valid JSON: {error.msg}") from None
    except RecursionError:
        raise ValidationException(f"{COPIABLE_MEMBER} nests JSON arrays or objects too deeply") from None
    if not isinstance(document, dict) or set(document) - {"SchemaVersion", "Study"}:
        raise ValidationException(f"{COPIABLE_MEMBER} must be a JSON object with SchemaVersion and Study only")
    version = document.get("SchemaVersion")
    if version is not None and (isinstance(version, bool) or str(version) not in SCHEMA_VERSIONS):
        raise ValidationException(f"{COPIABLE_MEMBER} SchemaVersion must be \"1.1\"; got {json.dumps(version)}")
    study = document.get("Study")
    if not isinstance(study, dict) or set(study) != {"Series"} or not isinstance(study["Series"], dict):
        raise ValidationException(f"{COPIABLE_MEMBER} must hold Study.Series.<SeriesInstanceUID>.Instances")
    chosen: dict[str, list[str]] = {}
    for series_key, series in study["Series"].items():
        where = f"{COPIABLE_MEMBER} Study.Series.{series_key}"
        if not isinstance(series, dict) or set(series) != {"Instances"} or not isinstance(series["Instances"], dict):
            raise ValidationException(f"{where} must hold only Instances, an object keyed by SOP Instance UID")
        for sop_uid, instance in series["Instances"].items():
            if instance != {}:
                raise ValidationException(f"{where}.Instances.{sop_uid} must be an empty object")
        chosen[series_key] = list(series["Instances"])
    if not any(chosen.values()):
        raise ValidationException(f"{COPIABLE_MEMBER} names no SOP instance to copy")
    return Selection(chosen)


def copied_part(source: dict[str, Any], selection: Selection) -> dict[str, Any]:
    """The source document cut down to the selected instances (series without any are dropped).

    Raises PatchFailure when a selected instance is not in the source.
    """
    part = copy.deepcopy(source)
    if selection.instances is None:
        return part
    series_blocks = part["Study"]["Series"]
    wanted: dict[str, set[str]] = {uid: set() for uid in series_blocks}
    for series_key, sop_uids in selection.instances.items():
        for sop_uid in sop_uids:
            home = _series_holding(series_blocks, series_key, sop_uid)
            wanted[home].add(sop_uid)
    for series_uid in list(series_blocks):
        instances = series_blocks[series_uid].get("Instances", {})
        kept = {uid: block for uid, block in instances.items() if uid in wanted[series_uid]}
        if kept:
            series_blocks[series_uid]["Instances"] = kept
        else:
            del series_blocks[series_uid]
    return part


def _series_holding(series_blocks: dict[str, Any], series_key: str, sop_uid: str) -> str:
    if series_key in series_blocks:
        if sop_uid in series_blocks[series_key].get("Instances", {}):
            return series_key
        raise PatchFailure(f"SOP Instance {sop_uid} is not in Series {series_key} of the source image set")
    for series_uid, block in series_blocks.items():
        if sop_uid in block.get("Instances", {}):
            return series_uid
    raise PatchFailure(f"SOP Instance {sop_uid} is not in the source image set")


def frame_ids(document: dict[str, Any]) -> list[str]:
    """Every image frame ID a document references."""
    return [
        frame["ID"]
        for series in document.get("Study", {}).get("Series", {}).values()
        for instance in series.get("Instances", {}).values()
        for frame in instance.get("ImageFrames", [])
        if isinstance(frame, dict) and "ID" in frame
    ]


def as_new_image_set(part: dict[str, Any], image_set_id: str) -> dict[str, Any]:
    """The document of a brand-new destination: the copied part under its own ImageSetID."""
    document = copy.deepcopy(part)
    document["ImageSetID"] = image_set_id
    return document


def merged(destination: dict[str, Any], part: dict[str, Any], *, force: bool) -> Outcome:
    """The destination's document with the copied part added, or why the copy fails."""
    result = copy.deepcopy(destination)
    try:
        if not force:
            for level in ("Patient", "Study"):
                _same_attributes(level, _dicom(part.get(level)), _dicom(result.get(level)))
        held = {
            uid for block in result["Study"].get("Series", {}).values() for uid in block.get("Instances", {})
        }
        target_series = result["Study"].setdefault("Series", {})
        for series_uid, block in part["Study"]["Series"].items():
            clashes = sorted(held.intersection(block.get("Instances", {})))
            if clashes:
                raise PatchFailure(
                    f"{SERIES_MISMATCH} SOP Instance {clashes[0]} is in both image sets,"
                    " and SOP Instance UIDs must be unique in an image set"
                )
            if series_uid not in target_series:
                target_series[series_uid] = copy.deepcopy(block)
                if force:
                    _keep_destination_study(result, target_series[series_uid])
                continue
            if not force:
                _same_attributes(f"Series {series_uid}", _dicom(block), _dicom(target_series[series_uid]))
            target_series[series_uid].setdefault("Instances", {}).update(copy.deepcopy(block.get("Instances", {})))
        check_document(result)
    except PatchFailure as failure:
        return Outcome(None, invalid_request(str(failure)))
    return Outcome(result)


def _same_attributes(where: str, source: dict[str, Any], destination: dict[str, Any]) -> None:
    differing = sorted(key for key in source.keys() | destination.keys() if source.get(key) != destination.get(key))
    if differing:
        shown = ", ".join(differing[:5]) + (f" and {len(differing) - 5} more" if len(differing) > 5 else "")
        raise PatchFailure(f"{SERIES_MISMATCH} {where} attributes differ: {shown}")


def _keep_destination_study(document: dict[str, Any], series: dict[str, Any]) -> None:
    """A series forced into another study's image set repeats that study's UID, as its siblings do."""
    study_uid = _dicom(document.get("Study")).get("StudyInstanceUID")
    if study_uid is not None and "StudyInstanceUID" in series.get("DICOM", {}):
        series["DICOM"]["StudyInstanceUID"] = study_uid


def _dicom(block: Any) -> dict[str, Any]:
    return block.get("DICOM", {}) if isinstance(block, dict) else {}
