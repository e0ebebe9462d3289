"""UpdateImageSetMetadata's patch documents (docs/service.md#metadata-patches): parse, check, apply.

A patch mirrors the metadata document: `{"SchemaVersion": 1.1, "Patient": {"DICOM": {...}},
"Study": {"DICOM": {...}, "Series": {uid: {"DICOM": {...}, "Instances": {uid: {"DICOM": {...}}}}}}}`.
In `updatableAttributes` each attribute is inserted or replaced; in `removableAttributes` each is
removed, and only when key and value both match the stored one; an empty object under a series or
instance UID removes that whole series or instance.

Which failures are synchronous (the guide is silent, docs/service.md#update-constraints): everything that can be
judged from the request alone (JSON, layout, keywords, levels, VRs, the payload limit) is a
ValidationException and consumes no version; whatever depends on the stored metadata (a series or
instance that is not there, a removal whose value does not match, a UID that would clash, an image
set left without instances, the 50 MB metadata quota) is found while the update runs and ends the new
version UPDATE_FAILED with a `message`, as the guide tells callers to look there after a failure.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from dataclasses import dataclass, field
from typing import Any

from ahi.emulator.errors import ValidationException
from ahi.emulator.imagesets.attributes import (
    GENERATED_INSTANCE_MEMBERS,
    GENERATED_KEYS,
    Findings,
    Target,
    check_removal,
    check_update,
    stored_form,
)
from ahi.emulator.imagesets.messages import invalid_request

UPDATES_MEMBER = "updateImageSetMetadataUpdates.DICOMUpdates"
#: The guide's quota (10 KB, docs/service.md#quotas; the API reference says at most 10000 per blob). botocore's
#: model allows 30000 bytes per blob, which the protocol layer enforces first; this applies after.
MAX_PATCH_BYTES = 10_000
#: ImageSetMetadata size per update or copy (docs/service.md#quotas).
MAX_METADATA_BYTES = 50 * 1024 * 1024
SCHEMA_VERSIONS = ("1.1",)
#: How many violations one ValidationException lists.
_SHOWN = 5


@dataclass(frozen=True)
class AttributeEdit:
    """One attribute to write into (or remove from) one block of the document."""

    target: Target
    key: str
    value: Any


@dataclass
class Patch:
    """Everything one UpdateImageSetMetadata asks for; removals apply before updates."""

    removed_instances: list[tuple[str, str]] = field(default_factory=list)
    removed_series: list[str] = field(default_factory=list)
    removals: list[AttributeEdit] = field(default_factory=list)
    updates: list[AttributeEdit] = field(default_factory=list)
    #: Violations that `force` lifts (on non-primary image sets).
    forceable: list[str] = field(default_factory=list)

    @property
    def levels(self) -> set[str]:
        """The document levels this patch touches."""
        touched = {edit.target.level for edit in (*self.removals, *self.updates)}
        if self.removed_series:
            touched.add("Series")
        if self.removed_instances:
            touched.add("Instance")
        return touched

    def is_empty(self) -> bool:
        return not (self.removed_instances or self.removed_series or self.removals or self.updates)


@dataclass(frozen=True)
class Outcome:
    """What an asynchronous write makes of a document: the new one, or why it failed."""

    document: dict[str, Any] | None
    message: str | None = None


class PatchFailure(Exception):
    """The patch cannot apply to this image set's metadata (becomes the version's message)."""


def parse_dicom_updates(updatable: bytes | None, removable: bytes | None) -> Patch:
    """Both blobs of `DICOMUpdates` as one Patch; ValidationException for what the request alone shows."""
    if updatable is None and removable is None:
        raise ValidationException(
            f"{UPDATES_MEMBER} must carry updatableAttributes, removableAttributes or both"
        )
    patch = Patch()
    findings = Findings()
    for name, blob, removing in (("removableAttributes", removable, True), ("updatableAttributes", updatable, False)):
        if blob is None:
            continue
        member = f"{UPDATES_MEMBER}.{name}"
        if len(blob) > MAX_PATCH_BYTES:
            raise ValidationException(
                f"{member} is {len(blob)} bytes; the UpdateImageSetMetadata payload quota is {MAX_PATCH_BYTES} bytes"
            )
        _Walker(patch, findings, removing).document(_load(blob, member))
    if findings.refused:
        raise ValidationException(_listing(findings.refused))
    if patch.is_empty():
        raise ValidationException(f"{UPDATES_MEMBER} names no attribute, series or instance to change")
    patch.forceable = findings.forceable
    return patch


def refuse_unforced(patch: Patch, *, force: bool, is_primary: bool) -> None:
    """ValidationException for what this patch may not do to this image set (docs/primary-image-sets.md#updates).

    `force` lifts the constraints only on non-primary image sets. On a primary image set, Series level
    elements are never updated, and `force` is refused for a patch that touches Patient or Series level
    elements; a Patient level update without `force` stays allowed, because AWS's own examples make one
    on the image set an import has just created.
    """
    if is_primary:
        edited = {edit.target.level for edit in (*patch.removals, *patch.updates)}
        series = sorted({edit.key for edit in (*patch.removals, *patch.updates) if edit.target.level == "Series"})
        if series:
            raise ValidationException(
                f"Series level elements of a primary image set cannot be updated ({', '.join(series[:_SHOWN])}); "
                "copy the image set to a non-primary one, update that and promote it with promoteToPrimary"
            )
        if force and "Patient" in edited:
            raise ValidationException(
                "force cannot update Patient level elements of a primary image set; force applies only to "
                "non-primary image sets"
            )
    if not patch.forceable or (force and not is_primary):
        return
    hint = (
        "force applies only to non-primary image sets"
        if force
        else "set force to override (non-primary image sets only)"
    )
    raise ValidationException(f"{_listing(patch.forceable)} ({hint})")


def _listing(problems: list[str]) -> str:
    shown = "; ".join(problems[:_SHOWN])
    more = len(problems) - _SHOWN
    return f"{UPDATES_MEMBER}: {shown}" + (f"; and {more} more" if more > 0 else "")


def _load(blob: bytes, member: str) -> dict[str, Any]:
    try:
        document = json.loads(blob.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValidationException(f"{member} must be UTF-8 JSON text") from None
    except RecursionError:
        raise ValidationException(f"{member} nests JSON arrays or objects too deeply") from None
    except json.JSONDecodeError as error:
        if _is_base64_json(blob):
            raise ValidationException(
                f"{member} is base64 text of JSON, so it was base64-encoded twice: the SDKs and AWS CLI v1 encode "
                "blob members themselves, so give them the JSON text (AWS CLI v2 takes base64 by default)"
            ) from None
        raise ValidationException(
            f"{member} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    if not isinstance(document, dict):
        raise ValidationException(f"{member} must be a JSON object like the image set metadata document")
    try:  # a `\ud800` escape decodes to an unpaired surrogate, which no stored (UTF-8) document can hold
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationException(
            f"{member} must not contain an unpaired UTF-16 surrogate (\\ud800-\\udfff) in any key or value"
        ) from None
    version = document.get("SchemaVersion")
    if version is None or isinstance(version, bool) or str(version) not in SCHEMA_VERSIONS:
        raise ValidationException(
            f"{member} must carry \"SchemaVersion\": \"1.1\" (or 1.1); got {json.dumps(version)}"
        )
    return document


def _is_base64_json(blob: bytes) -> bool:
    try:
        json.loads(base64.b64decode(blob.strip(), validate=True))
    except (binascii.Error, ValueError, RecursionError):
        return False
    return True


class _Walker:
    """Walks one patch document, filling a Patch and the findings."""

    def __init__(self, patch: Patch, findings: Findings, removing: bool) -> None:
        self.patch, self.findings, self.removing = patch, findings, removing

    def document(self, document: dict[str, Any]) -> None:
        for key, value in document.items():
            if key == "SchemaVersion":
                continue
            if key == "Patient":
                self._block(value, key, Target("Patient"), allowed=("DICOM",))
            elif key == "Study":
                study = self._block(value, key, Target("Study"), allowed=("DICOM", "Series"))
                for series_uid, series in self._object(study.get("Series", {}), "Study.Series").items():
                    self._series(series_uid, series)
            elif key in GENERATED_KEYS:
                self.findings.refused.append(f"{key} is generated by HealthImaging and cannot be changed")
            else:
                self.findings.refused.append(f"{key}: a patch holds only SchemaVersion, Patient and Study")

    def _series(self, series_uid: str, series: Any) -> None:
        path = f"Study.Series.{series_uid}"
        series = self._object(series, path)
        if not series:
            self._empty_block(path, "series", lambda: self.patch.removed_series.append(series_uid))
            return
        block = self._block(series, path, Target("Series", series_uid), allowed=("DICOM", "Instances"))
        for sop_uid, instance in self._object(block.get("Instances", {}), f"{path}.Instances").items():
            instance_path = f"{path}.Instances.{sop_uid}"
            instance = self._object(instance, instance_path)
            if not instance:
                self._empty_block(
                    instance_path, "instance", lambda uid=sop_uid: self.patch.removed_instances.append((series_uid, uid))
                )
                continue
            self._block(instance, instance_path, Target("Instance", series_uid, sop_uid), allowed=("DICOM",))

    def _empty_block(self, path: str, what: str, remove: Any) -> None:
        if self.removing:
            remove()
        else:
            self.findings.refused.append(
                f"{path}: an empty object changes nothing in updatableAttributes; to remove the {what}, "
                "send it in removableAttributes"
            )

    def _block(self, value: Any, path: str, target: Target, allowed: tuple[str, ...]) -> dict[str, Any]:
        block = self._object(value, path)
        for member in block:
            if member in allowed:
                continue
            if member in GENERATED_INSTANCE_MEMBERS or member in GENERATED_KEYS:
                self.findings.refused.append(f"{path}.{member} is generated by HealthImaging and cannot be changed")
            else:
                self.findings.refused.append(f"{path}.{member}: this block holds only {' and '.join(allowed)}")
        for key, attribute in self._object(block.get("DICOM", {}), f"{path}.DICOM").items():
            if self.removing:
                check_removal(target, key, self.findings)
                self.patch.removals.append(AttributeEdit(target, key, attribute))
            else:
                check_update(target, key, attribute, self.findings)
                self.patch.updates.append(AttributeEdit(target, key, stored_form(key, attribute)))
        return block

    def _object(self, value: Any, path: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.findings.refused.append(f"{path} must be a JSON object")
        return {}


def apply_patch(document: dict[str, Any], patch: Patch) -> Outcome:
    """The document with the patch applied, or the reason it cannot be (never raises for bad patches)."""
    result = copy.deepcopy(document)
    try:
        for series_uid, sop_uid in patch.removed_instances:
            del _instances(result, series_uid, sop_uid)[sop_uid]
        for series_uid in patch.removed_series:
            del _all_series(result, series_uid)[series_uid]
        for edit in patch.removals:
            _remove(result, edit)
        for edit in patch.updates:
            _write(result, edit)
        check_document(result)
    except PatchFailure as failure:
        return Outcome(None, invalid_request(str(failure)))
    return Outcome(result)


def check_document(document: dict[str, Any]) -> None:
    """PatchFailure when a written document would break the image set's own rules."""
    series = document.get("Study", {}).get("Series", {})
    if not any(block.get("Instances") for block in series.values()):
        raise PatchFailure("an image set keeps at least one SOP instance, so delete the image set to remove them all")
    size = len(json.dumps(document, separators=(",", ":")).encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise PatchFailure(f"the image set metadata would be {size} bytes, above the 50 MB quota")


def _all_series(document: dict[str, Any], series_uid: str) -> dict[str, Any]:
    series = document.setdefault("Study", {}).setdefault("Series", {})
    if series_uid not in series:
        raise PatchFailure(f"Series {series_uid} is not in the image set metadata")
    return series


def _instances(document: dict[str, Any], series_uid: str, sop_uid: str) -> dict[str, Any]:
    instances = _all_series(document, series_uid)[series_uid].setdefault("Instances", {})
    if sop_uid not in instances:
        raise PatchFailure(f"SOP Instance {sop_uid} is not in Series {series_uid} of the image set metadata")
    return instances


def _dicom_block(document: dict[str, Any], target: Target) -> dict[str, Any]:
    """The DICOM block a target names; PatchFailure when its module is not in the metadata."""
    if target.level in ("Patient", "Study"):
        return document.setdefault(target.level, {}).setdefault("DICOM", {})
    assert target.series_uid is not None
    if target.level == "Series":
        return _all_series(document, target.series_uid)[target.series_uid].setdefault("DICOM", {})
    assert target.sop_uid is not None
    return _instances(document, target.series_uid, target.sop_uid)[target.sop_uid].setdefault("DICOM", {})


def _remove(document: dict[str, Any], edit: AttributeEdit) -> None:
    block = _dicom_block(document, edit.target)
    if edit.key not in block:
        raise PatchFailure(f"{edit.key} is not in {edit.target.describe()}, so it cannot be removed")
    if not same_value(block[edit.key], edit.value):
        raise PatchFailure(
            f"the value given for {edit.key} does not match the stored value in {edit.target.describe()},"
            " and removing an attribute needs its key and value to match"
        )
    del block[edit.key]


def _write(document: dict[str, Any], edit: AttributeEdit) -> None:
    block = _dicom_block(document, edit.target)
    block[edit.key] = edit.value
    if edit.key == "StudyInstanceUID":
        for series in document["Study"].get("Series", {}).values():
            if "StudyInstanceUID" in series.get("DICOM", {}):
                series["DICOM"]["StudyInstanceUID"] = edit.value
    elif edit.key == "SeriesInstanceUID" and edit.target.series_uid != edit.value:
        series = document["Study"]["Series"]
        if edit.value in series:
            raise PatchFailure(f"Series {edit.value} is already in the image set")
        document["Study"]["Series"] = _renamed(series, edit.target.series_uid, edit.value)
    elif edit.key == "SOPInstanceUID" and edit.target.sop_uid != edit.value:
        if any(edit.value in block.get("Instances", {}) for block in document["Study"]["Series"].values()):
            raise PatchFailure(f"SOP Instance {edit.value} is already in the image set")
        series = document["Study"]["Series"][edit.target.series_uid]
        series["Instances"] = _renamed(series["Instances"], edit.target.sop_uid, edit.value)


def _renamed(entries: dict[str, Any], old: Any, new: str) -> dict[str, Any]:
    """The same mapping, in the same order, with one key renamed."""
    return {(new if key == old else key): value for key, value in entries.items()}


def same_value(stored: Any, given: Any) -> bool:
    """Whether a removal's value matches the stored one (text compared without DICOM padding)."""
    if isinstance(stored, list) and isinstance(given, list):
        return len(stored) == len(given) and all(same_value(a, b) for a, b in zip(stored, given))
    if isinstance(stored, str) and isinstance(given, str):
        return stored.strip(" \x00") == given.strip(" \x00")
    if isinstance(stored, bool) or isinstance(given, bool):
        return stored is given
    return stored == given
