"""A QIDO-RS request's query string as a search: matching keys, includefield, fuzzymatching, limit, offset.

The keys a level matches on are the ones HealthImaging's developer guide lists for it (studies:
StudyDate, AccessionNumber, ModalitiesInStudy, ReferringPhysicianName, PatientName, PatientID,
StudyInstanceUID, StudyID; series: Modality, SeriesInstanceUID; instances: SOPClassUID,
SOPInstanceUID), by keyword or 8-hex tag; a series or instance search also matches on the study keys
(and an instance search on the series keys), as PS3.18 allows. Anything else is a 400 naming the
parameter (docs/dicomweb.md#qido-rs).
"""

from __future__ import annotations

import functools

import re
from dataclasses import dataclass
from typing import Literal

from werkzeug.datastructures import MultiDict

from ahi.emulator.dicomweb.elements import tag_of
from ahi.emulator.dicomweb.instances import IMAGE_SET_PARAMETER
from ahi.emulator.errors import ValidationException
from ahi.emulator.store.dicomweb_search import Equal, HasValue, Level, Match, Range, Wildcard, WordPrefixes

#: Results per page when `limit` is absent, and the most a page may hold.
MAX_LIMIT = 1000
#: QIDO-RS reaches the first 10,000 matches of a query; later ones only through WADO-RS or the cloud-native API.
MAX_RECORDS = 10_000
MAX_INCLUDEFIELDS = 50
_DATE = re.compile(r"^\d{8}$")
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")

Kind = Literal["uid", "date", "text", "name", "multi"]


@dataclass(frozen=True)
class Key:
    """A matching key: its keyword, the index column it matches and how."""

    keyword: str
    column: str
    kind: Kind


_STUDY_KEYS = (
    Key("StudyDate", "study_date", "date"),
    Key("AccessionNumber", "accession_number", "text"),
    Key("ReferringPhysicianName", "referring_physician_name", "name"),
    Key("PatientName", "patient_name", "name"),
    Key("PatientID", "patient_id", "text"),
    Key("StudyInstanceUID", "study_uid", "uid"),
    Key("StudyID", "study_id", "text"),
)
_SERIES_KEYS = (Key("Modality", "modality", "text"), Key("SeriesInstanceUID", "series_uid", "uid"))
_INSTANCE_KEYS = (Key("SOPClassUID", "sop_class_uid", "uid"), Key("SOPInstanceUID", "sop_uid", "uid"))


@functools.cache
def _keys() -> dict[Level, dict[int, Key]]:
    """The matching keys of each level by tag; made on the first query (tags come from pydicom, which the endpoint's start does not load)."""
    return {
        "study": {tag_of(key.keyword): key for key in (*_STUDY_KEYS, Key("ModalitiesInStudy", "modalities", "multi"))},
        "series": {tag_of(key.keyword): key for key in (*_STUDY_KEYS, *_SERIES_KEYS)},
        "instance": {tag_of(key.keyword): key for key in (*_STUDY_KEYS, *_SERIES_KEYS, *_INSTANCE_KEYS)},
    }


#: Parameters other than matching keys (`imageSetId` is checked where every DICOMweb call checks it).
_CONTROL = frozenset({"includefield", "fuzzymatching", "limit", "offset", IMAGE_SET_PARAMETER})


@dataclass(frozen=True)
class QidoParams:
    """What the query string asks for."""

    matches: tuple[Match, ...]
    #: Tags to add to each result; None when `includefield=all`.
    include: frozenset[int] | None
    limit: int
    offset: int


def parse(args: MultiDict[str, str], level: Level) -> QidoParams:
    """The search a query string describes; ValidationException naming the first parameter at fault."""
    for name in args:
        if name not in _CONTROL and _key(name, level) is None:
            raise ValidationException(f"Query parameter '{name[:64]}' is not a matching key of this search")
    fuzzy = _flag(args, "fuzzymatching")
    matches: list[Match] = []
    for name in args:
        if name in _CONTROL:
            continue
        key = _key(name, level)
        assert key is not None
        values = args.getlist(name)
        if len(values) > 1 and key.kind != "uid":
            raise ValidationException(f"Query parameter '{name}' is given {len(values)} times; only UID keys take a list")
        match = _match(name, key, values, fuzzy)
        if match is not None:
            matches.append(match)
    limit = _number(args, "limit", MAX_LIMIT, low=1, high=MAX_LIMIT)
    offset = _number(args, "offset", 0, low=0, high=None)
    return QidoParams(tuple(matches), _include(args), limit, offset)


def _key(name: str, level: Level) -> Key | None:
    tag = tag_of(name)
    return None if tag is None else _keys()[level].get(tag)


def _single(args: MultiDict[str, str], name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise ValidationException(f"Query parameter '{name}' may be given once")
    return values[0] if values else None


def _flag(args: MultiDict[str, str], name: str) -> bool:
    value = _single(args, name)
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise ValidationException(f"Query parameter '{name}' must be true or false")
    return value.lower() == "true"


def _number(args: MultiDict[str, str], name: str, default: int, *, low: int, high: int | None) -> int:
    value = _single(args, name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValidationException(f"Query parameter '{name}' must be a whole number {bounds}")
    return int(value)


def _include(args: MultiDict[str, str]) -> frozenset[int] | None:
    fields = [field.strip() for value in args.getlist("includefield") for field in value.split(",") if field.strip()]
    if "all" in fields:
        return None
    if len(fields) > MAX_INCLUDEFIELDS:
        raise ValidationException(f"Query parameter 'includefield' names {len(fields)} attributes; at most {MAX_INCLUDEFIELDS}")
    tags: set[int] = set()
    for field in fields:
        tag = tag_of(field)
        if tag is None:
            raise ValidationException(f"Query parameter 'includefield': '{field[:64]}' is neither a DICOM keyword nor a tag")
        tags.add(tag)
    return frozenset(tags)


def _match(name: str, key: Key, values: list[str], fuzzy: bool) -> Match | None:
    """The match one key asks for; None for universal matching (an empty value or a lone `*`)."""
    if key.kind == "uid":
        uids = [uid.strip() for value in values for uid in re.split(r"[,\\]", value) if uid.strip()]
        for uid in uids:
            if not _UID.match(uid) or len(uid) > 64:
                raise ValidationException(f"Query parameter '{name}': '{uid[:64]}' is not a UID")
        return Equal(key.column, tuple(dict.fromkeys(uids))) if uids else None
    value = values[0].strip()
    if value in ("", "*"):
        return None
    if key.kind == "date":
        return _date_range(name, key.column, value)
    if key.kind == "multi":
        return HasValue(key.column, value)
    if key.kind == "name" and fuzzy:
        words = tuple(word for word in re.split(r"[\s^=,]+", value.replace("*", "").replace("?", "")) if word)
        return WordPrefixes(key.column, words) if words else None
    nocase = key.kind == "name"
    if "*" in value or "?" in value:
        return Wildcard(key.column, value, nocase=nocase)
    return Equal(key.column, (value,), nocase=nocase)


def _date_range(name: str, column: str, value: str) -> Range:
    """`YYYYMMDD`, or a range `A-B`, `A-`, `-B` (both ends included)."""
    low, dash, high = value.partition("-")
    bounds = [low, high] if dash else [low, low]
    for bound in bounds:
        if bound and not _DATE.match(bound):
            raise ValidationException(
                f"Query parameter '{name}' must be a date YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either end may be open)"
            )
    if dash and not low and not high:
        raise ValidationException(f"Query parameter '{name}': a range needs at least one end")
    return Range(column, bounds[0] or None, bounds[1] or None)
