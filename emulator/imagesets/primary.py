"""Primary and non-primary image sets: where an import's series goes, and what promotion may replace.

The rules are in docs/primary-image-sets.md. In short: a data store's primary image sets form one
consistent DICOM hierarchy (one primary image set per series, every primary image set of a study with
the same Patient and Study elements). An import's series joins that hierarchy when it agrees with it:
as a new primary image set, or as new instances in the primary image set that already holds the series
(a new version). When it disagrees (an element differs, or an instance is already there) it is kept as
a non-primary image set; nothing imported is dropped.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ahi.emulator.dicom.limits import MAX_METADATA_BYTES
from ahi.emulator.dicom.metadata_size import json_size
from ahi.emulator.store import imagesets
from ahi.emulator.store.imagesets import ImageSetVersion

LOCKED = "LOCKED"
#: The workflow status of a version an import added to an existing primary image set. The API reference
#: lists IMPORTING, IMPORTED and IMPORT_FAILED without saying when they appear; our choice is in
#: docs/primary-image-sets.md#workflow-statuses.
IMPORTED = "IMPORTED"


@dataclass(frozen=True)
class Placement:
    """Where one imported series goes."""

    #: Whether the image set the series ends in is primary.
    is_primary: bool
    #: The primary image set to add the instances to (a new version), or None for a new image set.
    target: ImageSetVersion | None = None
    #: The target's document with the instances added (when `target` is set).
    document: dict[str, Any] | None = None
    #: Why the series is not primary (for the log), or None.
    conflict: str | None = None
    #: A primary image set of the study is LOCKED by a write: place the series again once it settles.
    wait: bool = False


@dataclass(frozen=True)
class Member:
    """What placement compares of one primary image set version: its Patient and Study blocks, its series."""

    patient: dict[str, Any]
    study: dict[str, Any]
    series: frozenset[str]
    #: The Patient and Study blocks as one canonical text: equal texts need no element by element look.
    key: str = ""

    @classmethod
    def of(cls, patient: dict[str, Any], study: dict[str, Any], series: frozenset[str]) -> Member:
        study = {keyword: value for keyword, value in study.items() if keyword != "Series"}
        return cls(patient, study, series, json.dumps([patient, study], sort_keys=True, separators=(",", ":")))


#: Members by (image set id, version): a version's document never changes once it is readable, so one
#: job can keep them while it places its series (a study of many series is not read again per series).
MemberCache = dict[tuple[str, int], Member]


@dataclass
class _Hierarchy:
    """The primary image sets of one study: (image set id, version, member)."""

    members: list[tuple[str, int, Member]] = field(default_factory=list)
    locked: bool = False


def _hierarchy(conn: sqlite3.Connection, datastore_id: str, study_uid: str, cache: MemberCache) -> _Hierarchy:
    found = _Hierarchy()
    for image_set_id, version, state in imagesets.primary_image_sets_of_study(conn, datastore_id, study_uid):
        if state == LOCKED:
            found.locked = True
            continue
        member = cache.get((image_set_id, version))
        if member is None:
            document = imagesets.load_document(conn, image_set_id, version)
            if document is None:
                found.locked = True
                continue
            study = document.get("Study", {})
            patient = document.get("Patient", {}).get("DICOM", {})
            member = Member.of(patient, study.get("DICOM", {}), frozenset(study.get("Series", {})))
            cache[(image_set_id, version)] = member
        found.members.append((image_set_id, version, member))
    return found


def differing(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Keywords whose values differ between two blocks of normalized elements (one side may lack them)."""
    return sorted(key for key in mine.keys() | theirs.keys() if key != "Series" and mine.get(key) != theirs.get(key))


def _series(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((series_uid, block),) = document["Study"]["Series"].items()
    return series_uid, block


def place_import(
    conn: sqlite3.Connection, datastore_id: str, document: dict[str, Any], cache: MemberCache | None = None
) -> Placement:
    """Where the one series of a freshly built import document goes (call inside the write transaction)."""
    study_uid = document["Study"]["DICOM"].get("StudyInstanceUID")
    series_uid, series = _series(document)
    if not isinstance(study_uid, str) or not study_uid:
        return Placement(is_primary=False, conflict="no StudyInstanceUID")
    hierarchy = _hierarchy(conn, datastore_id, study_uid, {} if cache is None else cache)
    if hierarchy.locked:
        return Placement(is_primary=False, wait=True)
    holder: str | None = None
    mine = Member.of(document["Patient"]["DICOM"], document["Study"]["DICOM"], frozenset())
    for image_set_id, _, member in hierarchy.members:
        if series_uid in member.series:
            holder = image_set_id
        if member.key == mine.key:
            continue
        for level, theirs in (("Patient", member.patient), ("Study", member.study)):
            keys = differing(document[level]["DICOM"], theirs)
            if keys:
                return Placement(is_primary=False, conflict=f"{level} {', '.join(keys)} differ from {image_set_id}")
    if holder is None:
        return Placement(is_primary=True)
    target = imagesets.latest_version(conn, holder)
    existing = None if target is None else imagesets.load_document(conn, holder, target.version)
    assert target is not None and existing is not None, "a member of the hierarchy is readable in this transaction"
    theirs = existing["Study"]["Series"][series_uid]
    keys = differing(series["DICOM"], theirs.get("DICOM", {}))
    if keys:
        return Placement(is_primary=False, conflict=f"Series {', '.join(keys)} differ from {holder}")
    repeated = series["Instances"].keys() & theirs.get("Instances", {}).keys()
    if repeated:
        return Placement(is_primary=False, conflict=f"{len(repeated)} instances already in {holder}")
    existing["Study"]["Series"][series_uid].setdefault("Instances", {}).update(series["Instances"])
    if json_size(existing) > MAX_METADATA_BYTES:
        return Placement(is_primary=False, conflict=f"{holder} would exceed the metadata quota")
    return Placement(is_primary=True, target=target, document=existing)


def promotion_conflicts(
    conn: sqlite3.Connection, datastore_id: str, document: dict[str, Any], exclude: str
) -> tuple[list[str], str | None]:
    """What promoting an image set with this document to primary meets in the study's hierarchy.

    Returns the primary image sets it replaces (those holding any of its series) and, when another
    series' primary image set disagrees on a Patient or Study element, why the promotion cannot happen.
    """
    study_uid = document.get("Study", {}).get("DICOM", {}).get("StudyInstanceUID")
    if not isinstance(study_uid, str):
        return [], None
    mine = set(document["Study"].get("Series", {}))
    replaced: list[str] = []
    for image_set_id, version, _ in imagesets.primary_image_sets_of_study(conn, datastore_id, study_uid):
        if image_set_id == exclude:
            continue
        existing = imagesets.load_document(conn, image_set_id, version)
        if existing is None:
            continue
        if mine & set(existing["Study"].get("Series", {})):
            replaced.append(image_set_id)
            continue
        for level in ("Patient", "Study"):
            keys = differing(document.get(level, {}).get("DICOM", {}), existing[level]["DICOM"])
            if keys:
                return replaced, (
                    f"its {level} level {', '.join(keys)} differ from primary image set {image_set_id} of the "
                    "same study; resolve the conflict first"
                )
    return replaced, None
