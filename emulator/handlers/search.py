"""SearchImageSets: filters, sort and stable pages over the image sets of an ACTIVE data store.

Choices where the guide is silent (docs/service.md#search), after botocore's model, the API
reference and the guide's examples:
- operators: EQUAL (one value) for DICOMPatientId, DICOMAccessionNumber, DICOMStudyId,
  DICOMStudyInstanceUID, DICOMSeriesInstanceUID and isPrimary; BETWEEN (lower bound, then upper
  bound) for createdAt, updatedAt and DICOMStudyDateAndTime, as every AWS example pairs them ("all
  date range queries must be input as (lowerBound, upperBound)"). Anything else, a filter whose
  values name different attributes, or a reversed range is a ValidationException naming the filter;
- matching is exact and case-sensitive, no wildcards; bounds are inclusive. EQUAL on an empty id
  finds image sets without that attribute. Two filters must both hold;
- createdAt/updatedAt compare at the milliseconds a summary shows (as the service sends them), so
  a range built from values a search returned finds those image sets again;
- DICOMStudyDateAndTime: DICOMStudyDate is YYYYMMDD, DICOMStudyTime is optional DICOM TM
  (HH, HHMM, HHMMSS, HHMMSS.F to .FFFFFF; without it, the start of the day, per the guide). Image
  sets without a StudyDate never match and sort before every date (ASC) or after (DESC);
- UIDs must follow the guide's rule (digits, single dots between, none at either end);
- sort: updatedAt DESC by default, ties broken by creation order (the image set's sequence number),
  reversed for DESC; the effective sort is always echoed;
- maxResults defaults to 50, the model's maximum;
- the data store must be ACTIVE: an unknown or DELETED one is ResourceNotFoundException, one that is
  CREATING, DELETING or CREATE_FAILED is ConflictException (as StartDICOMImportJob answers);
- DELETED image sets are gone from search; LOCKED ones (an update, copy or delete in flight) still
  show, with their latest version;
- paging (emulator/store/search.py): a search is pinned at its first page. Later pages leave out
  image sets created or changed (updated, copied into, deleted) since then, so no image set is
  served twice and none that stayed unchanged is skipped; a changed one may drop out of the rest of
  that search (the real service's behaviour is not documented);
- summaries omit DICOMTags keys the image set has no value for (as the CLI examples print them;
  boto3 drops JSON nulls anyway); `lastAccessedAt` and `storageTier` are not tracked locally.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from ahi.emulator.context import RequestContext
from ahi.emulator.errors import ValidationException
from ahi.emulator.handlers.datastores import load_active_datastore
from ahi.emulator.pagination import paginate
from ahi.emulator.store import search as store_search
from ahi.emulator.store.search import (
    Between,
    Cursor,
    Equal,
    Filter,
    SearchQuery,
    Snapshot,
    SummaryRow,
    search_page,
    take_snapshot,
)

PAGE_SIZE = 50
DEFAULT_SORT = {"sortField": "updatedAt", "sortOrder": "DESC"}
#: EQUAL works on the ids, UIDs and isPrimary; BETWEEN on the timestamps and study date, the sort fields.
EQUAL_KEYS = tuple(store_search.EQUAL_KEYS)
BETWEEN_KEYS = tuple(store_search.SORT_KEYS)
UID_KEYS = ("DICOMStudyInstanceUID", "DICOMSeriesInstanceUID")
UID = re.compile(r"[0-9]+(\.[0-9]+)+")
STUDY_DATE = re.compile(r"[0-9]{8}")
STUDY_TIME = re.compile(r"([01][0-9]|2[0-3])(?:([0-5][0-9])(?:([0-5][0-9])(?:\.([0-9]{1,6}))?)?)?")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

#: DICOMTags member -> image_sets column (strings; the counts and DICOMSeriesNumber are integers).
TAG_COLUMNS = {
    "DICOMPatientId": "patient_id",
    "DICOMPatientName": "patient_name",
    "DICOMPatientBirthDate": "patient_birth_date",
    "DICOMPatientSex": "patient_sex",
    "DICOMStudyInstanceUID": "study_instance_uid",
    "DICOMStudyId": "study_id",
    "DICOMStudyDescription": "study_description",
    "DICOMNumberOfStudyRelatedSeries": "number_of_study_related_series",
    "DICOMNumberOfStudyRelatedInstances": "number_of_study_related_instances",
    "DICOMAccessionNumber": "accession_number",
    "DICOMSeriesInstanceUID": "series_instance_uid",
    "DICOMSeriesModality": "series_modality",
    "DICOMSeriesBodyPart": "series_body_part",
    "DICOMSeriesNumber": "series_number",
    "DICOMStudyDate": "study_date",
    "DICOMStudyTime": "study_time",
}
INTEGER_TAGS = ("DICOMNumberOfStudyRelatedSeries", "DICOMNumberOfStudyRelatedInstances", "DICOMSeriesNumber")


def search_image_sets(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    datastore_id = params["datastoreId"]
    criteria = params.get("searchCriteria") or {}
    sort = criteria.get("sort") or DEFAULT_SORT
    query = SearchQuery(
        datastore_id=datastore_id,
        filters=parse_filters(criteria.get("filters") or []),
        sort_field=sort["sortField"],
        descending=sort["sortOrder"] == "DESC",
    )
    with ctx.runtime.store.read() as conn:
        load_active_datastore(ctx, conn, datastore_id, "only an ACTIVE data store can be searched")
        fetch, key = _pager(conn, query)
        page, next_token = paginate(
            ctx,
            params,
            filters={"datastoreId": datastore_id, "filters": [repr(item) for item in query.filters], "sort": sort},
            fetch=fetch,
            key=key,
            default_size=PAGE_SIZE,
        )
    output: dict[str, Any] = {
        "imageSetsMetadataSummaries": [summary(row) for row in page],
        "sort": {"sortField": sort["sortField"], "sortOrder": sort["sortOrder"]},
    }
    if next_token is not None:
        output["nextToken"] = next_token
    return output


def _pager(
    conn: sqlite3.Connection, query: SearchQuery
) -> tuple[Callable[[list[Any] | None, int], list[SummaryRow]], Callable[[SummaryRow], list[Any]]]:
    """`paginate`'s fetch and key: positions carry the sort value, seq and the first page's snapshot."""
    snapshot = take_snapshot(conn)

    def fetch(after: list[Any] | None, limit: int) -> list[SummaryRow]:
        nonlocal snapshot
        cursor = None if after is None else _cursor(after)
        if cursor is not None:
            snapshot = cursor.snapshot
        return search_page(conn, query, cursor, limit)

    def key(row: SummaryRow) -> list[Any]:
        return [row.sort_value, row.seq, snapshot.max_seq, snapshot.revision]

    return fetch, key


def _cursor(position: list[Any]) -> Cursor:
    """A signed position back as a cursor (it can only be malformed if minted by an older endpoint)."""
    if len(position) != 4 or not all(isinstance(part, int) for part in position[1:]):
        raise ValidationException("nextToken is invalid for SearchImageSets; start again without it")
    sort_value, seq, max_seq, revision = position
    return Cursor(sort_value, seq, Snapshot(max_seq, revision))


def parse_filters(filters: list[dict[str, Any]]) -> tuple[Filter, ...]:
    """The request's filters as store filters; one ValidationException listing every bad filter."""
    parsed: list[Filter] = []
    problems: list[str] = []
    for number, item in enumerate(filters, start=1):
        try:
            parsed.append(_parse_filter(item, f"searchCriteria.filters.{number}.member"))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        noun = "error" if len(problems) == 1 else "errors"
        raise ValidationException(f"{len(problems)} validation {noun} detected: " + "; ".join(problems))
    return tuple(parsed)


def _parse_filter(item: dict[str, Any], where: str) -> Filter:
    operator, values = item["operator"], item["values"]
    keys = [next(iter(value)) for value in values]
    key = keys[0]
    if any(other != key for other in keys):
        raise ValueError(f"{where}: every value of one filter must name the same attribute, found {' and '.join(keys)}")
    if operator == "EQUAL":
        if key not in EQUAL_KEYS:
            raise ValueError(
                f"{where}: operator EQUAL is not supported for {key} (use BETWEEN with a lower and an upper bound)"
            )
        if len(values) != 1:
            raise ValueError(f"{where}: operator EQUAL takes exactly 1 value, found {len(values)}")
        return Equal(key, _equal_value(key, values[0][key], f"{where}.values.1.member.{key}"))
    if key not in BETWEEN_KEYS:
        raise ValueError(f"{where}: operator BETWEEN is not supported for {key} (use EQUAL with one value)")
    if len(values) != 2:
        raise ValueError(
            f"{where}: operator BETWEEN takes exactly 2 values (lower bound, then upper bound), found {len(values)}"
        )
    given = [value[key] for value in values]
    low = _bound(key, given[0], f"{where}.values.1.member.{key}", lower=True)
    high = _bound(key, given[1], f"{where}.values.2.member.{key}", lower=False)
    # Compared as given: bounds rounded inwards to whole milliseconds may cross without being reversed.
    if (low > high) if key == "DICOMStudyDateAndTime" else (given[0] > given[1]):
        raise ValueError(f"{where}: the lower bound (values.1) of {key} is after the upper bound (values.2)")
    return Between(key, low, high)


def _equal_value(key: str, value: str | bool, where: str) -> str | bool | None:
    if isinstance(value, bool):
        return value
    if key in UID_KEYS and not UID.fullmatch(value):
        raise ValueError(
            f"{where} is not a valid UID: digits in at least two components separated by single dots, "
            "no dot at the start or end, no letters or spaces"
        )
    return value or None


def _bound(key: str, value: Any, where: str, *, lower: bool) -> int | str:
    """A range bound in the column's units: whole milliseconds (rounded inwards) or a study key."""
    if key == "DICOMStudyDateAndTime":
        return study_key(value, where)
    micros = (value - EPOCH) // dt.timedelta(microseconds=1)
    return -(-micros // 1000) if lower else micros // 1000


def study_key(value: dict[str, str], where: str) -> str:
    """DICOMStudyDate + DICOMStudyTime as the store's `study_key`: 'YYYYMMDDHHMMSSffffff'."""
    date, time = value.get("DICOMStudyDate", ""), value.get("DICOMStudyTime") or ""
    if not STUDY_DATE.fullmatch(date) or not _is_calendar_date(date):
        raise ValueError(f"{where}.DICOMStudyDate must be a date as YYYYMMDD, e.g. 19991122")
    match = STUDY_TIME.fullmatch(time) if time else None
    if time and match is None:
        raise ValueError(
            f"{where}.DICOMStudyTime must be a time as HHMMSS, optionally with up to 6 fraction digits (HHMMSS.FFFFFF)"
        )
    hours, minutes, seconds, fraction = match.groups() if match else ("00", None, None, None)
    return f"{date}{hours}{minutes or '00'}{seconds or '00'}{(fraction or '').ljust(6, '0')}"


def _is_calendar_date(date: str) -> bool:
    try:
        dt.date(int(date[:4]), int(date[4:6]), int(date[6:]))
    except ValueError:
        return False
    return True


def summary(row: SummaryRow) -> dict[str, Any]:
    """One ImageSetsMetadataSummary."""
    values = row.values
    tags: dict[str, Any] = {}
    for member, column in TAG_COLUMNS.items():
        value = values[column]
        if member in INTEGER_TAGS:
            value = _integer(value)
        if value is not None:
            tags[member] = value
    return {
        "imageSetId": values["image_set_id"],
        "version": int(values["latest_version"]),
        "createdAt": _from_ms(values["created_ms"]),
        "updatedAt": _from_ms(values["updated_ms"]),
        "DICOMTags": tags,
        "isPrimary": bool(values["is_primary"]),
    }


def _from_ms(milliseconds: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=milliseconds)


def _integer(value: Any) -> int | None:
    """An integer tag (IS values are text, possibly padded); None when it is not a whole number."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None
