"""Property: any search returns exactly what a plain Python filter over the stored summaries returns.

A seeded set of image sets (small value domains, so filters hit; millisecond ties and sub-millisecond
times; missing attributes; non-primary and deleted ones) is written straight into the store. Random
criteria then go over HTTP with boto3, page by page, and must match the same filter and order done in
Python on the summaries the seeds describe. The driving-index threshold is drawn too, so both plans
of emulator/store/search.py (sort index, or filter index plus sort) run.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from datastore_waits import active_datastore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_seed import UTC, Seed, search_all, seed_image_sets, shown

from ahi.emulator.store import search as store_search

T0 = 1_700_000_000.0
PATIENTS = ("P1", "P2", "P3")
ACCESSIONS = ("A1", "A2")
STUDY_IDS = ("S1", "S2")
STUDY_UIDS = ("1.2.1", "1.2.2")
SERIES_UIDS = ("1.3.1", "1.3.2", "1.3.3")
DATES = ("19991231", "20200101", "20200102", "20210615")
TIMES = (None, "00", "0830", "083000", "083000.5", "235959.999999")
ID_KEYS = {
    "DICOMPatientId": PATIENTS,
    "DICOMAccessionNumber": ACCESSIONS,
    "DICOMStudyId": STUDY_IDS,
    "DICOMStudyInstanceUID": STUDY_UIDS,
    "DICOMSeriesInstanceUID": SERIES_UIDS,
}


def make_seeds() -> list[Seed]:
    rnd = random.Random(20240311)

    def maybe(values: tuple[Any, ...]) -> Any:
        return rnd.choice((*values, None))

    seeds = []
    for _ in range(60):
        created = T0 + rnd.choice((0, 0.0003, 1.25, 1.2507, 2, 3.5, 7.0001))
        seeds.append(
            Seed(
                created_at=created,
                updated_at=created + rnd.choice((0, 0.0004, 10, 10.0002, 20)),
                patient_id=maybe(PATIENTS),
                accession_number=maybe(ACCESSIONS),
                study_id=maybe(STUDY_IDS),
                study_instance_uid=maybe(STUDY_UIDS),
                series_instance_uid=maybe(SERIES_UIDS),
                study_date=maybe(DATES),
                study_time=rnd.choice(TIMES),
                is_primary=rnd.random() < 0.7,
                deleted=rnd.random() < 0.1,
            )
        )
    return seeds


TAG_KEYS = (*ID_KEYS, "DICOMStudyDate", "DICOMStudyTime")


def expected_summary(seed: Seed, image_set_id: str) -> dict[str, Any]:
    """What a summary of this seed must say (the DICOMTags the filters and sort read)."""
    tags = {
        "DICOMPatientId": seed.patient_id,
        "DICOMAccessionNumber": seed.accession_number,
        "DICOMStudyId": seed.study_id,
        "DICOMStudyInstanceUID": seed.study_instance_uid,
        "DICOMSeriesInstanceUID": seed.series_instance_uid,
        "DICOMStudyDate": seed.study_date,
        "DICOMStudyTime": seed.study_time,
    }
    return {
        "imageSetId": image_set_id,
        "createdAt": shown(seed.created_at),
        "updatedAt": shown(seed.updated_at or seed.created_at),
        "isPrimary": seed.is_primary,
        "DICOMTags": {key: value for key, value in tags.items() if value is not None},
    }


def study_moment(date: str | None, time: str | None) -> dt.datetime | None:
    """A DICOM date and optional TM as a datetime (a missing time is the start of the day)."""
    if date is None:
        return None
    digits, _, fraction = (time or "").partition(".")
    digits = digits.ljust(6, "0")
    day = dt.datetime(int(date[:4]), int(date[4:6]), int(date[6:]))
    hour, minute, second = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    return day.replace(hour=hour, minute=minute, second=second, microsecond=int(fraction.ljust(6, "0")))


def study_parts(value: dict[str, str]) -> tuple[str, str | None]:
    return value["DICOMStudyDate"], value.get("DICOMStudyTime")


def matches(summary: dict[str, Any], item: dict[str, Any]) -> bool:
    key = next(iter(item["values"][0]))
    values = [value[key] for value in item["values"]]
    tags = summary["DICOMTags"]
    if key == "isPrimary":
        return summary["isPrimary"] == values[0]
    if key in ID_KEYS:
        return tags.get(key) == values[0] if values[0] else key not in tags
    if key == "DICOMStudyDateAndTime":
        moment = study_moment(tags.get("DICOMStudyDate"), tags.get("DICOMStudyTime"))
        low, high = (study_moment(*study_parts(value)) for value in values)
        return moment is not None and low <= moment <= high
    return values[0] <= summary[key] <= values[1]


def sort_key(summary: dict[str, Any], field: str) -> Any:
    if field == "DICOMStudyDateAndTime":
        moment = study_moment(summary["DICOMTags"].get("DICOMStudyDate"), summary["DICOMTags"].get("DICOMStudyTime"))
        return moment or dt.datetime.min
    return summary[field]


def expected_ids(stored: list[dict[str, Any]], criteria: dict[str, Any]) -> list[str]:
    """Filter and order in plain Python; ties in creation (list) order, reversed for DESC."""
    sort = criteria.get("sort", {"sortField": "updatedAt", "sortOrder": "DESC"})
    hits = [
        (sort_key(summary, sort["sortField"]), position, summary["imageSetId"])
        for position, summary in enumerate(stored)
        if all(matches(summary, item) for item in criteria.get("filters", []))
    ]
    hits.sort(reverse=sort["sortOrder"] == "DESC")
    return [image_set_id for _, _, image_set_id in hits]


# --- strategies -------------------------------------------------------------------------------------------

SEEDS = make_seeds()
#: Every time a summary shows, a microsecond either side, and far bounds.
INSTANTS = sorted(
    {
        shown(at) + dt.timedelta(microseconds=delta)
        for seed in SEEDS
        for at in (seed.created_at, seed.updated_at or seed.created_at)
        for delta in (-1, 0, 1)
    }
    | {dt.datetime(1985, 4, 12, 23, 20, 50, 520000, tzinfo=UTC), dt.datetime(2030, 1, 1, tzinfo=UTC)}
)
STUDY_POINTS = [
    {"DICOMStudyDate": date} if time is None else {"DICOMStudyDate": date, "DICOMStudyTime": time}
    for date in DATES
    for time in TIMES
]


def ordered_pair(points: st.SearchStrategy[Any], key: Any) -> st.SearchStrategy[list[Any]]:
    return st.lists(points, min_size=2, max_size=2).map(lambda pair: sorted(pair, key=key))


def id_filter(key: str) -> st.SearchStrategy[dict[str, Any]]:
    choices = (*ID_KEYS[key], "NOPE" if "UID" not in key else "9.9.9") + (("",) if "UID" not in key else ())
    return st.sampled_from(choices).map(lambda value: {"operator": "EQUAL", "values": [{key: value}]})


def range_filter(key: str) -> st.SearchStrategy[dict[str, Any]]:
    if key == "DICOMStudyDateAndTime":
        pairs = ordered_pair(st.sampled_from(STUDY_POINTS), lambda value: study_moment(*study_parts(value)))
    else:
        pairs = ordered_pair(st.sampled_from(INSTANTS), lambda value: value)
    return pairs.map(lambda pair: {"operator": "BETWEEN", "values": [{key: pair[0]}, {key: pair[1]}]})


FILTERS = st.one_of(
    *(id_filter(key) for key in ID_KEYS),
    st.booleans().map(lambda flag: {"operator": "EQUAL", "values": [{"isPrimary": flag}]}),
    *(range_filter(key) for key in ("createdAt", "updatedAt", "DICOMStudyDateAndTime")),
)
SORTS = st.none() | st.fixed_dictionaries(
    {
        "sortField": st.sampled_from(["updatedAt", "createdAt", "DICOMStudyDateAndTime"]),
        "sortOrder": st.sampled_from(["ASC", "DESC"]),
    }
)


@st.composite
def criteria_strategy(draw: st.DrawFn) -> dict[str, Any]:
    criteria: dict[str, Any] = {}
    filters = draw(st.lists(FILTERS, max_size=2))
    if filters:
        criteria["filters"] = filters
    sort = draw(SORTS)
    if sort is not None:
        criteria["sort"] = sort
    return criteria


def test_random_searches_match_a_python_filter(endpoint: Any, mi: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    datastore_id = active_datastore(mi, datastoreName="search-properties")["datastoreId"]
    ids = seed_image_sets(endpoint.runtime.store, datastore_id, SEEDS)
    stored = [expected_summary(seed, image_set_id) for seed, image_set_id in zip(SEEDS, ids) if not seed.deleted]
    listed = {summary["imageSetId"]: summary for summary in search_all(mi, datastore_id)}
    assert len(listed) == len(stored)
    for summary in stored:
        got = listed[summary["imageSetId"]]
        assert {key: got[key] for key in summary} | {"DICOMTags": None} == summary | {"DICOMTags": None}
        tags = got["DICOMTags"]
        assert {key: tags.get(key) for key in TAG_KEYS} == {key: summary["DICOMTags"].get(key) for key in TAG_KEYS}

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(criteria_strategy(), st.sampled_from([1, 4, 9, 50]), st.sampled_from([0, 8, 500]))
    def check(criteria: dict[str, Any], page_size: int, probe_limit: int) -> None:
        monkeypatch.setattr(store_search, "PROBE_LIMIT", probe_limit)
        served: list[str] = []
        request: dict[str, Any] = {"datastoreId": datastore_id, "searchCriteria": criteria, "maxResults": page_size}
        while True:
            page = mi.search_image_sets(**request)
            summaries = page["imageSetsMetadataSummaries"]
            assert len(summaries) <= page_size
            assert page["sort"] == criteria.get("sort", {"sortField": "updatedAt", "sortOrder": "DESC"})
            served += [summary["imageSetId"] for summary in summaries]
            if "nextToken" not in page:
                break
            assert len(summaries) == page_size
            request["nextToken"] = page["nextToken"]
        assert served == expected_ids(stored, criteria)

    check()
