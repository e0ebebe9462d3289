"""The image set search form: every SearchImageSets filter, checked before sending, turned into `searchCriteria`.

Rules come from the model (filters 1-2, values 1-2, EQUAL/BETWEEN, sort fields) and from
docs/service.md#search: BETWEEN takes (lower, upper); a study date without a time means the start of that day; UIDs are
digits separated by dots (docs/service.md#uid-rule). Each problem names the form field it belongs to, so a screen can
show the reason next to that field.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Mapping

from ahi.services.validation import FieldProblem, shape, string_problems

SORT_FIELDS: tuple[str, ...] = tuple(shape("SortField").enum)
SORT_ORDERS: tuple[str, ...] = tuple(shape("SortOrder").enum)
#: The model's SearchCriteriaFiltersList max: more criteria cannot be sent in one search.
MAX_FILTERS = 2
#: DICOM PS3.5 9.1: a UID is at most 64 characters.
UID_MAX_LENGTH = 64

_UID = re.compile(r"[0-9]+(\.[0-9]+)+")
_DATE = re.compile(r"\d{8}")
_TIME = re.compile(r"(\d{2})(\d{2})(\d{2})(\.\d{1,6})?")
_FRACTION = re.compile(r"\.(\d{1,6})(?=$|[+-])")
# Open ends of a range are filled, because BETWEEN needs both bounds (our choice; the guide is silent).
_EARLIEST_DATE, _LATEST_DATE = "00010101", "99991231"
_EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LATEST_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
# An upper study date without a time covers that whole day (without it the service reads 00:00).
_END_OF_DAY = "235959.999999"

_Add = Callable[[str, "str | None"], bool]

LABELS: dict[str, str] = {
    "patient_id": "Patient ID",
    "accession_number": "Accession number",
    "study_id": "Study ID",
    "study_instance_uid": "Study Instance UID",
    "series_instance_uid": "Series Instance UID",
    "study_date_from": "Study date from",
    "study_time_from": "time",
    "study_date_to": "Study date to",
    "study_time_to": "time",
    "created_from": "Created from",
    "created_to": "Created to",
    "updated_from": "Updated from",
    "updated_to": "Updated to",
    "primary_only": "Primary only",
    "sort_field": "Sort by",
    "sort_order": "Order",
    "datastore_id": "Data store",
}


@dataclass(frozen=True)
class SearchForm:
    """What the user typed, as typed; empty strings mean "not used"."""

    patient_id: str = ""
    accession_number: str = ""
    study_id: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    study_date_from: str = ""
    study_time_from: str = ""
    study_date_to: str = ""
    study_time_to: str = ""
    created_from: str = ""
    created_to: str = ""
    updated_from: str = ""
    updated_to: str = ""
    primary_only: bool = False
    #: "" keeps the service's default order (updatedAt, newest first).
    sort_field: str = ""
    sort_order: str = "DESC"
    #: The data store searched (not a filter; kept so a saved search knows where it runs).
    datastore_id: str = ""

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> SearchForm:
        """A form from saved values (unknown keys are ignored; strings are stripped)."""
        known = set(field_names())
        kept: dict[str, Any] = {}
        for key, value in values.items():
            if key in known:
                kept[key] = bool(value) if key == "primary_only" else str(value).strip()
        return cls(**kept)

    def values(self) -> dict[str, Any]:
        """The fields that differ from an empty form (what a saved search stores)."""
        empty = SearchForm()
        return {key: value for key, value in asdict(self).items() if value != getattr(empty, key)}

    def is_empty(self) -> bool:
        return not any(key not in ("sort_field", "sort_order", "datastore_id") for key in self.values())


@dataclass(frozen=True)
class CheckedSearch:
    """A form's problems (by field) and, when there are none, the `searchCriteria` to send."""

    problems: list[FieldProblem]
    criteria: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem_for(self, field_name: str) -> str | None:
        found = [p.rule for p in self.problems if p.field == field_name]
        return "; ".join(found) if found else None


def uid_problem(value: str) -> str | None:
    """Why `value` is not a UID by docs/service.md#uid-rule (digits, dots between them, nothing else), or None."""
    if " " in value or "\t" in value:
        return "contains a space: copy the UID again without spaces"
    if re.search(r"[A-Za-z]", value):
        return "contains letters: a UID is digits separated by dots"
    if value.startswith(".") or value.endswith("."):
        return "must not start or end with a dot"
    if ".." in value:
        return "has two dots in a row"
    if not _UID.fullmatch(value):
        return "must be digits separated by dots, e.g. 1.2.840.113619.2.55"
    if len(value) > UID_MAX_LENGTH:
        return f"is {len(value)} characters; a DICOM UID has at most {UID_MAX_LENGTH}"
    return None


def date_problem(value: str) -> str | None:
    """Why `value` is not a DICOM date YYYYMMDD of the calendar, or None."""
    if not _DATE.fullmatch(value):
        return "must be a date YYYYMMDD, e.g. 20240315"
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return f"{value} is not a day of the calendar"
    return None


def time_problem(value: str) -> str | None:
    """Why `value` is not a DICOM time HHMMSS(.ffffff), or None."""
    match = _TIME.fullmatch(value)
    if match is None:
        return "must be a time HHMMSS or HHMMSS.ffffff, e.g. 093000"
    hours, minutes, seconds = (int(match.group(i)) for i in (1, 2, 3))
    if hours > 23 or minutes > 59 or seconds > 59:
        return f"{value} is not a time of day (HH 00-23, MM and SS 00-59)"
    return None


def parse_timestamp(value: str, upper: bool = False) -> datetime:
    """ISO 8601 date or date-time; naive means UTC; a bare upper date means the end of that day."""
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat takes only 3 or 6 fraction digits; the guide writes "23:20:50.52Z".
    text = _FRACTION.sub(lambda m: "." + m.group(1).ljust(6, "0"), text)
    parsed = datetime.fromisoformat(text)
    if "T" not in text and upper:
        parsed = datetime.combine(parsed.date(), time.max)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _timestamp_problem(value: str) -> str | None:
    try:
        parse_timestamp(value)
    except ValueError:
        return "must be a date or date-time like 2024-03-15 or 2024-03-15T09:30:00Z"
    return None


def _dicom_date_time_key(day: str, clock: str) -> tuple[str, str]:
    """Sortable (date, time) with the time padded to microseconds."""
    whole, _, fraction = clock.partition(".")
    return day, f"{whole or '000000'}.{fraction.ljust(6, '0')}"


def check_search(form: SearchForm) -> CheckedSearch:
    """Every rule the form breaks, by field; when none, the `searchCriteria` for SearchImageSets."""
    problems: list[FieldProblem] = []
    filters: list[tuple[str, dict[str, Any]]] = []

    def add(field_name: str, rule: str | None) -> bool:
        """Record a problem (if any); True when there was none."""
        if rule:
            problems.append(FieldProblem(field_name, rule))
        return rule is None

    for field_name, member in (
        ("patient_id", "DICOMPatientId"),
        ("accession_number", "DICOMAccessionNumber"),
        ("study_id", "DICOMStudyId"),
    ):
        value = getattr(form, field_name)
        if value:
            rules = [p.rule for p in string_problems(field_name, value, shape(member))]
            if add(field_name, "; ".join(rules) or None):
                filters.append((field_name, {"operator": "EQUAL", "values": [{member: value}]}))
    for field_name, member in (("study_instance_uid", "DICOMStudyInstanceUID"), ("series_instance_uid", "DICOMSeriesInstanceUID")):
        value = getattr(form, field_name)
        if value and add(field_name, uid_problem(value)):
            filters.append((field_name, {"operator": "EQUAL", "values": [{member: value}]}))

    study_range = _study_range(form, add)
    if study_range is not None:
        filters.append(study_range)
    for prefix, member in (("created", "createdAt"), ("updated", "updatedAt")):
        found = _timestamp_range(form, prefix, member, add)
        if found is not None:
            filters.append(found)
    if form.primary_only:
        filters.append(("primary_only", {"operator": "EQUAL", "values": [{"isPrimary": True}]}))

    if form.sort_field and form.sort_field not in SORT_FIELDS:
        add("sort_field", f"must be one of {', '.join(SORT_FIELDS)}")
    if form.sort_order not in SORT_ORDERS:
        add("sort_order", f"must be one of {', '.join(SORT_ORDERS)}")

    if len(filters) > MAX_FILTERS:
        names = ", ".join(LABELS[name] for name, _ in filters)
        for name, _ in filters:
            add(name, f"SearchImageSets takes at most {MAX_FILTERS} filters; {len(filters)} are set ({names})")
    if problems:
        return CheckedSearch(problems, {})
    criteria: dict[str, Any] = {}
    if filters:
        criteria["filters"] = [body for _, body in filters]
    if form.sort_field:
        criteria["sort"] = {"sortField": form.sort_field, "sortOrder": form.sort_order}
    return CheckedSearch([], criteria)


def _study_range(form: SearchForm, add: _Add) -> tuple[str, dict[str, Any]] | None:
    """The DICOMStudyDateAndTime BETWEEN filter, or None when no study date or time is given."""
    parts = (form.study_date_from, form.study_time_from, form.study_date_to, form.study_time_to)
    if not any(parts):
        return None
    ok = True
    for date_field, time_field in (("study_date_from", "study_time_from"), ("study_date_to", "study_time_to")):
        day, clock = getattr(form, date_field), getattr(form, time_field)
        if day:
            ok &= add(date_field, date_problem(day))
        if clock:
            ok &= add(time_field, time_problem(clock))
            if not day:
                ok &= add(time_field, "a time needs its date")
    if not ok:
        return None
    lower = _dicom_date_time_key(form.study_date_from or _EARLIEST_DATE, form.study_time_from)
    upper_time = form.study_time_to or (_END_OF_DAY if form.study_date_to else "")
    upper = _dicom_date_time_key(form.study_date_to or _LATEST_DATE, upper_time or _END_OF_DAY)
    if lower > upper:
        add("study_date_to", "is before the start of the range")
        return None
    low_value = {"DICOMStudyDate": form.study_date_from or _EARLIEST_DATE}
    if form.study_time_from:
        low_value["DICOMStudyTime"] = form.study_time_from
    high_value = {"DICOMStudyDate": form.study_date_to or _LATEST_DATE, "DICOMStudyTime": upper_time or _END_OF_DAY}
    field_name = "study_date_from" if form.study_date_from else "study_date_to"
    return field_name, {
        "operator": "BETWEEN",
        "values": [{"DICOMStudyDateAndTime": low_value}, {"DICOMStudyDateAndTime": high_value}],
    }


def _timestamp_range(form: SearchForm, prefix: str, member: str, add: _Add) -> tuple[str, dict[str, Any]] | None:
    """A createdAt/updatedAt BETWEEN filter, or None when neither bound is given."""
    low_text, high_text = getattr(form, f"{prefix}_from"), getattr(form, f"{prefix}_to")
    if not low_text and not high_text:
        return None
    ok = True
    for suffix, text in (("from", low_text), ("to", high_text)):
        if text:
            ok &= add(f"{prefix}_{suffix}", _timestamp_problem(text))
    if not ok:
        return None
    low = parse_timestamp(low_text) if low_text else _EARLIEST_TIME
    high = parse_timestamp(high_text, upper=True) if high_text else _LATEST_TIME
    if low > high:
        add(f"{prefix}_to", "is before the start of the range")
        return None
    field_name = f"{prefix}_from" if low_text else f"{prefix}_to"
    return field_name, {"operator": "BETWEEN", "values": [{member: low}, {member: high}]}


def describe_criteria(criteria: Mapping[str, Any]) -> str:
    """One line for the status bar: `DICOMPatientId = X · createdAt 2024-01-01 … 2024-02-01 · sort updatedAt DESC`."""
    parts: list[str] = []
    for body in criteria.get("filters", []):
        values = [next(iter(v.items())) for v in body["values"]]
        if body["operator"] == "EQUAL":
            parts.append(" ".join(f"{key} = {_short(value)}" for key, value in values))
        else:
            (key, low), (_, high) = values
            parts.append(f"{key} {_short(low)} … {_short(high)}")
    sort = criteria.get("sort")
    if sort:
        parts.append(f"sort {sort['sortField']} {sort['sortOrder']}")
    return " · ".join(parts) or "all image sets"


def _short(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Mapping):
        return " ".join(str(v) for v in value.values())
    return str(value)


def field_names() -> tuple[str, ...]:
    """The form's field names (the keys a saved search may hold)."""
    return tuple(f.name for f in fields(SearchForm))

