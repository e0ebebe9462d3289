"""Primary and non-primary image sets of a study, and, element by element, why each non-primary one conflicts.

The service keeps imported data that disagrees with a study's primary image sets as non-primary image
sets (docs/primary-image-sets.md). It says which image sets are primary, not why the others are not;
this module finds out from the metadata documents, comparing the blocks the service compares: the
Patient and Study elements, the Series elements of the same series, and the SOP Instance UIDs already
in the primary image set (docs/conflicts.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Iterable

from ahi.services.errors import AwsCallError
from ahi.services.imagesets import ImageSetService, ImageSetSummary
from ahi.services.metadata_patch import AttributeRef, MetadataUpdate, remove_attribute, set_attribute
from ahi.services.tiers import ARCHIVE, touched

#: The levels whose elements decide where a series goes, in the order they are shown.
LEVELS = ("Patient", "Study", "Series")
#: Every page SearchImageSets returns for one study is read, up to this many image sets (a study with
#: more is unusual; the view says when it stopped).
MAX_STUDY_IMAGE_SETS = 500


@dataclass(frozen=True)
class Difference:
    """One element whose value differs between a non-primary image set and its primary counterpart."""

    level: str
    keyword: str
    primary_value: Any
    sibling_value: Any
    primary_has: bool = True
    sibling_has: bool = True
    series_uid: str | None = None

    @property
    def ref(self) -> AttributeRef:
        return AttributeRef(self.level, self.keyword, self.series_uid)

    def fix(self) -> MetadataUpdate:
        """The patch that gives the non-primary image set the primary's value (or removes what the primary lacks)."""
        if self.primary_has:
            return set_attribute(self.ref, self.primary_value)
        return remove_attribute(self.ref, self.sibling_value)


@dataclass(frozen=True)
class Member:
    """One image set of the study: its search summary and its latest metadata (or why it could not be read)."""

    summary: ImageSetSummary
    document: Mapping[str, Any] | None = None
    error: str | None = None
    #: Reading its metadata moved it from Archive Instant Access to Frequent Access (its summary says so).
    moved: bool = False

    @property
    def id(self) -> str:
        return self.summary.id

    @property
    def is_primary(self) -> bool:
        return self.summary.is_primary is True

    @property
    def series(self) -> dict[str, Any]:
        return dict(((self.document or {}).get("Study") or {}).get("Series") or {})


@dataclass(frozen=True)
class Sibling:
    """A non-primary image set, the primary image set it was compared with, and what differs."""

    member: Member
    primary: Member | None
    differences: tuple[Difference, ...] = ()
    #: SOP Instance UIDs that are also in the primary image set's same series.
    shared_instances: int = 0

    @property
    def id(self) -> str:
        return self.member.id

    def reason(self) -> str:
        """One line: why this image set is not primary."""
        if self.member.error:
            return f"metadata not read: {self.member.error}"
        if self.primary is None:
            return "no primary image set in the study (promote one)"
        parts = []
        for level in LEVELS:
            keywords = [d.keyword for d in self.differences if d.level == level]
            if keywords:
                parts.append(f"{level}: {', '.join(keywords)}")
        if self.shared_instances:
            parts.append(f"duplicates {self.shared_instances} instance(s) of the primary")
        return "; ".join(parts) or "no difference in the grouping elements"


@dataclass(frozen=True)
class StudyConflicts:
    """One study: its primary image sets, its non-primary ones with their differences."""

    study_uid: str
    primaries: tuple[Member, ...]
    siblings: tuple[Sibling, ...]
    #: More image sets were in the study than the view reads.
    truncated: bool = False

    @property
    def members(self) -> tuple[Member, ...]:
        return self.primaries + tuple(s.member for s in self.siblings)

    def siblings_of(self, primary_id: str) -> list[Sibling]:
        return [s for s in self.siblings if s.primary is not None and s.primary.id == primary_id]


@dataclass(frozen=True)
class ConflictsView:
    """Everything the conflicts screen shows: one entry per study."""

    datastore_id: str
    studies: tuple[StudyConflicts, ...] = field(default_factory=tuple)
    #: Seeds whose study could not be found (image set id -> why).
    unresolved: Mapping[str, str] = field(default_factory=dict)


def _dicom(document: Mapping[str, Any] | None, level: str, series_uid: str | None = None) -> Mapping[str, Any]:
    study = (document or {}).get("Study") or {}
    if level == "Patient":
        return ((document or {}).get("Patient") or {}).get("DICOM") or {}
    if level == "Study":
        return {k: v for k, v in (study.get("DICOM") or {}).items() if k != "Series"}
    return (((study.get("Series") or {}).get(series_uid or "") or {}).get("DICOM")) or {}


def block_differences(level: str, primary: Mapping[str, Any], sibling: Mapping[str, Any], series_uid: str | None = None) -> list[Difference]:
    """Keywords whose values differ between two blocks (a keyword on one side only counts), sorted."""
    return [
        Difference(level, key, primary.get(key), sibling.get(key), key in primary, key in sibling, series_uid)
        for key in sorted(primary.keys() | sibling.keys())
        if primary.get(key) != sibling.get(key) or (key in primary) != (key in sibling)
    ]


def compare(primary: Mapping[str, Any], sibling: Mapping[str, Any]) -> tuple[list[Difference], int]:
    """What differs between a primary image set's document and a non-primary one's: (differences, shared instances).

    Series elements and instances are compared for the series both hold.
    """
    differences = block_differences("Patient", _dicom(primary, "Patient"), _dicom(sibling, "Patient"))
    differences += block_differences("Study", _dicom(primary, "Study"), _dicom(sibling, "Study"))
    shared = 0
    primary_series = (primary.get("Study") or {}).get("Series") or {}
    for series_uid, body in ((sibling.get("Study") or {}).get("Series") or {}).items():
        theirs = primary_series.get(series_uid)
        if theirs is None:
            continue
        differences += block_differences("Series", theirs.get("DICOM") or {}, body.get("DICOM") or {}, series_uid)
        shared += len((body.get("Instances") or {}).keys() & (theirs.get("Instances") or {}).keys())
    return differences, shared


def counterpart(primaries: Iterable[Member], sibling: Member) -> Member | None:
    """The primary image set a non-primary one is compared with: the one holding its series, else the study's first."""
    readable = [p for p in primaries if p.document is not None]
    mine = set(sibling.series)
    for primary in readable:
        if mine & set(primary.series):
            return primary
    return readable[0] if readable else None


def study_conflicts(study_uid: str, members: Iterable[Member], truncated: bool = False) -> StudyConflicts:
    """Group a study's image sets: primaries first (oldest first), each non-primary with its differences."""
    ordered = sorted(members, key=lambda m: (m.summary.created_at is None, m.summary.created_at or 0, m.id))
    primaries = tuple(m for m in ordered if m.is_primary)
    siblings = []
    for member in ordered:
        if member.is_primary:
            continue
        primary = counterpart(primaries, member)
        if primary is None or member.document is None or primary.document is None:
            siblings.append(Sibling(member, primary))
            continue
        differences, shared = compare(primary.document, member.document)
        siblings.append(Sibling(member, primary, tuple(differences), shared))
    return StudyConflicts(study_uid, primaries, tuple(siblings), truncated)


def study_uid_of(document: Mapping[str, Any]) -> str | None:
    value = ((document.get("Study") or {}).get("DICOM") or {}).get("StudyInstanceUID")
    return value if isinstance(value, str) and value else None


def study_criteria(study_uid: str) -> dict[str, Any]:
    """SearchImageSets criteria for every image set of a study, primary or not (no isPrimary filter)."""
    return {"filters": [{"operator": "EQUAL", "values": [{"DICOMStudyInstanceUID": study_uid}]}]}


class ConflictsLoader:
    """Reads a study's image sets (SearchImageSets, then GetImageSetMetadata per image set)."""

    def __init__(self, service: ImageSetService) -> None:
        self.service = service

    def study_of(self, datastore_id: str, image_set_id: str) -> str | None:
        return study_uid_of(self.service.metadata(datastore_id, image_set_id).document)

    def study(self, datastore_id: str, study_uid: str) -> StudyConflicts:
        summaries: list[ImageSetSummary] = []
        token: str | None = None
        while True:
            page = self.service.search(datastore_id, study_criteria(study_uid), token)
            summaries.extend(page.summaries)
            token = page.next_token
            if not token or len(summaries) >= MAX_STUDY_IMAGE_SETS:
                break
        members = [self._member(datastore_id, summary) for summary in summaries[:MAX_STUDY_IMAGE_SETS]]
        return study_conflicts(study_uid, members, truncated=bool(token))

    def _member(self, datastore_id: str, summary: ImageSetSummary) -> Member:
        try:
            document = self.service.metadata(datastore_id, summary.id).document
            # The read is an access (docs/storage-tiers.md): the summary, searched before it, is out of date.
            return Member(touched(summary), document, moved=summary.storage_tier == ARCHIVE)
        except AwsCallError as error:
            return Member(summary, error=error.code)

    def view(self, datastore_id: str, image_set_ids: Iterable[str] = (), study_uids: Iterable[str] = ()) -> ConflictsView:
        """The studies named, plus the studies of the image sets named, each once, in the order given."""
        wanted = list(dict.fromkeys(study_uids))
        unresolved: dict[str, str] = {}
        for image_set_id in dict.fromkeys(image_set_ids):
            try:
                uid = self.study_of(datastore_id, image_set_id)
            except AwsCallError as error:
                unresolved[image_set_id] = error.code
                continue
            if uid is None:
                unresolved[image_set_id] = "no StudyInstanceUID in its metadata"
            elif uid not in wanted:
                wanted.append(uid)
        return ConflictsView(datastore_id, tuple(self.study(datastore_id, uid) for uid in wanted), unresolved)


def job_roles(image_sets: Iterable[Any]) -> tuple[int, int, int]:
    """(primary, non-primary, not stated) counts of an import job's image sets (manifest entries with `is_primary`)."""
    flags = [getattr(entry, "is_primary", None) for entry in image_sets]
    return flags.count(True), flags.count(False), sum(1 for flag in flags if flag is None)
