"""SearchImageSets over HTTP with boto3: every filter key and operator, sort, pages, summaries and errors."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from datastore_waits import active_datastore, error_of, wait_for_status
from search_seed import ACCOUNT, REGION, UTC, Seed, document, mark_deleted, search_all, seed_image_sets, shown, touch

from ahi.emulator.ids import new_id
from ahi.emulator.store import search as store_search
from ahi.emulator.store.imagesets import insert_image_set

T0 = 1_700_000_000.0
DEFAULT_SORT = {"sortField": "updatedAt", "sortOrder": "DESC"}


def equal(key: str, value: Any) -> dict[str, Any]:
    return {"operator": "EQUAL", "values": [{key: value}]}


def between(key: str, low: Any, high: Any) -> dict[str, Any]:
    return {"operator": "BETWEEN", "values": [{key: low}, {key: high}]}


def study(date: str, time: str | None = None) -> dict[str, str]:
    return {"DICOMStudyDate": date} if time is None else {"DICOMStudyDate": date, "DICOMStudyTime": time}


def ordered(field: str, order: str) -> dict[str, str]:
    return {"sortField": field, "sortOrder": order}


def ids_of(summaries: list[dict[str, Any]]) -> list[str]:
    return [summary["imageSetId"] for summary in summaries]


def found(mi: Any, datastore_id: str, *filters: dict[str, Any], sort: dict[str, str] | None = None) -> list[str]:
    """Image set ids of every page of a search with these filters (and sort)."""
    criteria: dict[str, Any] = {"filters": list(filters)} if filters else {}
    if sort is not None:
        criteria["sort"] = sort
    return ids_of(search_all(mi, datastore_id, searchCriteria=criteria))


def wait_state(mi: Any, datastore_id: str, image_set_id: str, state: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetState"] != state:
        assert time.monotonic() < deadline, f"{image_set_id} never became {state}"
        time.sleep(0.01)


@pytest.fixture
def datastore_id(mi: Any) -> str:
    return str(active_datastore(mi, datastoreName="search")["datastoreId"])


@pytest.fixture
def seeded(endpoint: Any, datastore_id: str) -> Any:
    """seed(list of Seed) -> their image set ids, written straight into the endpoint's store."""
    return lambda seeds: seed_image_sets(endpoint.runtime.store, datastore_id, seeds)


def test_empty_criteria_list_everything_newest_update_first(mi: Any, datastore_id: str, seeded: Any) -> None:
    ids = seeded([Seed(created_at=T0 + n, updated_at=T0 + 100 - n * 10) for n in range(4)])
    seeded([Seed(created_at=T0 + 9, deleted=True)])
    for kwargs in ({}, {"searchCriteria": {}}, {"searchCriteria": {"sort": DEFAULT_SORT}}):
        response = mi.search_image_sets(datastoreId=datastore_id, **kwargs)
        assert ids_of(response["imageSetsMetadataSummaries"]) == ids, "updatedAt falls as n rises"
        assert response["sort"] == DEFAULT_SORT
        assert "nextToken" not in response


def test_summary_carries_version_times_tags_and_primary_flag(mi: Any, datastore_id: str, seeded: Any) -> None:
    full, bare = seeded(
        [
            Seed(
                created_at=T0 + 0.1239,
                updated_at=T0 + 60.5,
                patient_id="SUBJECT08701",
                patient_name="Melissa844 Huel628",
                accession_number="ACC-1",
                study_id="2011201407",
                study_instance_uid="1.2.840.99999999.84710745.943275268089",
                series_instance_uid="1.2.840.99999999.1.2",
                study_date="19991122",
                study_time="140728.000000",
                series_number=" 7 ",
                instances=3,
                is_primary=False,
            ),
            Seed(created_at=T0 + 1, modality=None, series_number="not-a-number"),
        ]
    )
    summaries = {item["imageSetId"]: item for item in search_all(mi, datastore_id)}
    assert summaries[full] == {
        "imageSetId": full,
        "version": 1,
        "createdAt": shown(T0 + 0.1239),
        "updatedAt": shown(T0 + 60.5),
        "isPrimary": False,
        # Seeded in the store, never touched: last touched when last updated, years ago (docs/storage-tiers.md).
        "lastAccessedAt": shown(T0 + 60.5),
        "storageTier": "ARCHIVE_INSTANT_ACCESS",
        "DICOMTags": {
            "DICOMPatientId": "SUBJECT08701",
            "DICOMPatientName": "Melissa844 Huel628",
            "DICOMPatientSex": "O",
            "DICOMStudyInstanceUID": "1.2.840.99999999.84710745.943275268089",
            "DICOMStudyId": "2011201407",
            "DICOMStudyDescription": "SEARCH TEST",
            "DICOMNumberOfStudyRelatedSeries": 1,
            "DICOMNumberOfStudyRelatedInstances": 3,
            "DICOMAccessionNumber": "ACC-1",
            "DICOMSeriesInstanceUID": "1.2.840.99999999.1.2",
            "DICOMSeriesModality": "CT",
            "DICOMSeriesBodyPart": "CHEST",
            "DICOMSeriesNumber": 7,
            "DICOMStudyDate": "19991122",
            "DICOMStudyTime": "140728.000000",
        },
    }
    assert summaries[full]["createdAt"].microsecond == 124000, "the nearest millisecond, as the service sends"
    assert summaries[bare]["isPrimary"] is True and summaries[bare]["version"] == 1
    missing = {"DICOMPatientId", "DICOMAccessionNumber", "DICOMStudyDate", "DICOMSeriesModality", "DICOMSeriesNumber"}
    assert not missing & set(summaries[bare]["DICOMTags"]), "keys without a value are left out"


@pytest.mark.parametrize(
    ("key", "field", "value", "other"),
    [
        ("DICOMPatientId", "patient_id", "SUBJECT08701", "SUBJECT08702"),
        ("DICOMAccessionNumber", "accession_number", "ACC-7", "acc-7"),
        ("DICOMStudyId", "study_id", "2011201407", "2011201408"),
        ("DICOMStudyInstanceUID", "study_instance_uid", "1.2.840.1.5", "1.2.840.1.50"),
        ("DICOMSeriesInstanceUID", "series_instance_uid", "1.2.840.99999999.84710745.943275268089", "1.2.840.9"),
    ],
)
def test_equal_on_each_id_key_matches_exactly(
    mi: Any, datastore_id: str, seeded: Any, key: str, field: str, value: str, other: str
) -> None:
    seeds = [Seed(created_at=T0 + n, **{field: value if n % 2 == 0 else other}) for n in range(5)]
    ids = seeded([*seeds, Seed(created_at=T0 + 9)])
    summaries = search_all(mi, datastore_id, searchCriteria={"filters": [equal(key, value)]})
    assert ids_of(summaries) == [ids[4], ids[2], ids[0]]
    assert all(summary["DICOMTags"][key] == value for summary in summaries)
    if "UID" not in key:
        assert found(mi, datastore_id, equal(key, "")) == [ids[5]], "an empty id finds the image sets without one"


def test_equal_on_is_primary(mi: Any, datastore_id: str, seeded: Any) -> None:
    ids = seeded([Seed(created_at=T0 + n, is_primary=n != 1) for n in range(3)])
    assert found(mi, datastore_id, equal("isPrimary", False)) == [ids[1]]
    assert found(mi, datastore_id, equal("isPrimary", True)) == [ids[2], ids[0]]


@pytest.mark.parametrize("key", ["createdAt", "updatedAt"])
def test_between_timestamps_is_inclusive_at_the_milliseconds_shown(
    mi: Any, datastore_id: str, seeded: Any, key: str
) -> None:
    ids = seeded([Seed(created_at=at, updated_at=at) for at in (T0 + 0.0004, T0 + 1.2345678, T0 + 2.5, T0 + 3.999)])
    second = {item["imageSetId"]: item for item in search_all(mi, datastore_id)}[ids[1]][key]
    assert second == shown(T0 + 1.2345678)

    def within(low: dt.datetime, high: dt.datetime) -> list[str]:
        return found(mi, datastore_id, between(key, low, high))

    assert within(second, second) == [ids[1]], "a value a search returned finds its image set again"
    assert within(second + dt.timedelta(microseconds=1), second + dt.timedelta(microseconds=999)) == []
    assert within(shown(T0), shown(T0 + 2.5)) == [ids[2], ids[1], ids[0]]
    assert within(dt.datetime(1985, 4, 12, 23, 20, 50, 520000, tzinfo=UTC), dt.datetime.now(UTC)) == ids[::-1]
    offset = dt.timezone(dt.timedelta(hours=-7))
    assert within(shown(T0 + 2.5).astimezone(offset), shown(T0 + 3.999).astimezone(offset)) == [ids[3], ids[2]]


def test_between_study_date_and_time(mi: Any, datastore_id: str, seeded: Any) -> None:
    day_start, noon, day_end, next_day, no_date, before = seeded(
        [
            Seed(created_at=T0 + 1, study_date="20200101"),
            Seed(created_at=T0 + 2, study_date="20200101", study_time="1200"),
            Seed(created_at=T0 + 3, study_date="20200101", study_time="235959.999"),
            Seed(created_at=T0 + 4, study_date="20200102", study_time="000000"),
            Seed(created_at=T0 + 5, study_time="101010"),
            Seed(created_at=T0 + 6, study_date="19991231", study_time="235959"),
        ]
    )

    def within(low: dict[str, str], high: dict[str, str], order: str = "ASC") -> list[str]:
        by_study = ordered("DICOMStudyDateAndTime", order)
        return found(mi, datastore_id, between("DICOMStudyDateAndTime", low, high), sort=by_study)

    assert within(study("20200101"), study("20200102")) == [day_start, noon, day_end, next_day], "00:00, inclusive"
    assert within(study("20200101"), study("20200101")) == [day_start], "an upper date alone is the start of its day"
    assert within(study("20200101", "120000"), study("20200101", "235959.999000")) == [noon, day_end]
    assert within(study("20200101", "12"), study("20200101", "235959.998")) == [noon], "short TM forms, fractions"
    everything = [next_day, day_end, noon, day_start, before]
    assert within(study("19900101", "000000.000"), study("20230101", "000000.000"), "DESC") == everything
    assert no_date not in within(study("00010101"), study("99991231"))


@pytest.mark.parametrize("order", ["ASC", "DESC"])
@pytest.mark.parametrize("field", ["updatedAt", "createdAt", "DICOMStudyDateAndTime"])
def test_sort_on_every_field_with_ties_in_creation_order(
    mi: Any, datastore_id: str, seeded: Any, field: str, order: str
) -> None:
    # (created, updated, study date): pairs of equal keys in every field, in an order unlike insertion.
    layout = [(3, 1, "20200301"), (1, 3, "20200101"), (2, 2, None)] * 2
    seeds = [Seed(created_at=T0 + c, updated_at=T0 + 10 + u, study_date=day, study_time="0830") for c, u, day in layout]
    ids = seeded(seeds)
    position = {"createdAt": 0, "updatedAt": 1, "DICOMStudyDateAndTime": 2}[field]
    keyed = sorted(((row[position] or "", n) for n, row in enumerate(layout)), reverse=order == "DESC")
    expected = [ids[n] for _, n in keyed]
    for page_size in (1, 4, 50):
        criteria = {"sort": ordered(field, order)}
        summaries = search_all(mi, datastore_id, searchCriteria=criteria, PaginationConfig={"PageSize": page_size})
        assert ids_of(summaries) == expected


def test_two_filters_must_both_hold(mi: Any, datastore_id: str, seeded: Any) -> None:
    ids = seeded(
        [
            Seed(created_at=T0 + 1, series_instance_uid="1.2.3.1", study_date="20240101"),
            Seed(created_at=T0 + 2, series_instance_uid="1.2.3.1", study_date="20230101"),
            Seed(created_at=T0 + 3, series_instance_uid="1.2.3.2", study_date="20240101"),
        ]
    )
    series = equal("DICOMSeriesInstanceUID", "1.2.3.1")
    since_2023 = between("updatedAt", dt.datetime(2023, 1, 1, tzinfo=UTC), dt.datetime.now(UTC))
    assert found(mi, datastore_id, series, since_2023, sort=ordered("updatedAt", "ASC")) == [ids[0], ids[1]]
    studied = between("DICOMStudyDateAndTime", study("20231231"), study("20241231"))
    assert found(mi, datastore_id, series, studied) == [ids[0]]
    assert found(mi, datastore_id, equal("isPrimary", True), studied) == [ids[2], ids[0]]


def test_pages_follow_max_results_and_tokens_belong_to_their_search(mi: Any, datastore_id: str, seeded: Any) -> None:
    ids = seeded([Seed(created_at=T0 + n, patient_id="P") for n in range(120)])
    first = mi.search_image_sets(datastoreId=datastore_id)
    assert len(first["imageSetsMetadataSummaries"]) == 50, "maxResults defaults to the model's 50"
    paginator = mi.get_paginator("search_image_sets")
    pages = list(paginator.paginate(datastoreId=datastore_id, PaginationConfig={"PageSize": 7}))
    assert [len(page["imageSetsMetadataSummaries"]) for page in pages] == [7] * 17 + [1]
    assert "nextToken" not in pages[-1]
    assert [item for page in pages for item in ids_of(page["imageSetsMetadataSummaries"])] == ids[::-1]

    token = first["nextToken"]
    other_search = {"filters": [equal("DICOMPatientId", "P")]}
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for kwargs in ({"nextToken": token, "searchCriteria": other_search}, {"nextToken": altered}):
        with pytest.raises(ClientError) as refused:
            mi.search_image_sets(datastoreId=datastore_id, **kwargs)
        assert error_of(refused)[:2] == ("ValidationException", 400)


def test_deleted_image_sets_vanish_and_updates_show(mi: Any, datastore_id: str, seeded: Any) -> None:
    kept, removed = seeded([Seed(created_at=T0 + 1, patient_id="P"), Seed(created_at=T0 + 2, patient_id="P")])
    mi.delete_image_set(datastoreId=datastore_id, imageSetId=removed)
    wait_state(mi, datastore_id, removed, "DELETED")
    assert found(mi, datastore_id) == [kept]
    assert found(mi, datastore_id, equal("DICOMPatientId", "P")) == [kept]

    patch = {"SchemaVersion": 1.1, "Study": {"DICOM": {"StudyDescription": "UPDATED"}}}
    mi.update_image_set_metadata(
        datastoreId=datastore_id,
        imageSetId=kept,
        latestVersionId="1",
        updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": json.dumps(patch).encode()}},
    )
    wait_state(mi, datastore_id, kept, "ACTIVE")
    (summary,) = search_all(mi, datastore_id)
    assert summary["version"] == 2 and summary["DICOMTags"]["DICOMStudyDescription"] == "UPDATED"
    assert summary["updatedAt"] > shown(T0 + 1)


@pytest.mark.parametrize("order", ["DESC", "ASC"])
def test_pages_of_one_search_stay_stable_while_rows_change(
    endpoint: Any, mi: Any, datastore_id: str, seeded: Any, order: str
) -> None:
    store = endpoint.runtime.store
    initial = seeded([Seed(created_at=T0 + n, patient_id="P") for n in range(200)])
    changed: set[str] = set()
    inserted: list[str] = []
    go, done = threading.Semaphore(0), threading.Semaphore(0)
    stop = threading.Event()

    def writer() -> None:
        """One round of writes between every two pages: two updates, one new image set, sometimes a delete."""
        step = 0
        while go.acquire() and not stop.is_set():
            step += 1
            victims = [initial[(step * 37) % 200], initial[(step * 91 + 5) % 200]]
            with store.transaction() as tx:
                for image_set_id in victims:
                    touch(tx, image_set_id, T0 + 1000 + step)  # to the top (DESC) or the end (ASC)
                fresh = new_id()
                insert_image_set(
                    tx,
                    image_set_id=fresh,
                    datastore_id=datastore_id,
                    account_id=ACCOUNT,
                    region=REGION,
                    document=document(Seed(created_at=T0), datastore_id, fresh),
                    frames=[],
                    now=T0 + 500 + step,
                )
                if step % 5 == 0:
                    victims.append(initial[(step * 13 + 1) % 200])
                    mark_deleted(tx, victims[-1], T0 + 2000)
            changed.update(victims)
            inserted.append(fresh)
            done.release()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    served: list[str] = []
    try:
        request: dict[str, Any] = {"searchCriteria": {"sort": ordered("updatedAt", order)}, "maxResults": 9}
        while True:
            response = mi.search_image_sets(datastoreId=datastore_id, **request)
            served += ids_of(response["imageSetsMetadataSummaries"])
            if "nextToken" not in response:
                break
            request["nextToken"] = response["nextToken"]
            go.release()
            assert done.acquire(timeout=10), "the writer thread stalled"
    finally:
        stop.set()
        go.release()
        thread.join(timeout=10)
    assert len(served) == len(set(served)), "no image set is served twice"
    unchanged = [image_set_id for image_set_id in initial if image_set_id not in changed]
    assert len(unchanged) > 100 and len(changed) > 20
    assert set(unchanged) <= set(served), "no image set that stayed unchanged is skipped"
    assert not set(served) & set(inserted), "image sets created after the first page are not part of the search"


def test_every_search_reads_through_an_index(
    endpoint: Any, datastore_id: str, seeded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded([Seed(created_at=T0 + n, patient_id="P", study_date="20200101") for n in range(3)])
    ranges = [
        store_search.Between("createdAt", 0, 2**42),
        store_search.Between("updatedAt", 0, 2**42),
        store_search.Between("DICOMStudyDateAndTime", "19000101", "21000101"),
    ]
    equals = [store_search.Equal(key, True if key == "isPrimary" else "1.2") for key in store_search.EQUAL_KEYS]
    filter_sets: list[tuple[store_search.Filter, ...]] = [(), *((item,) for item in ranges + equals)]
    filter_sets += [(ranges[0], equals[-1]), (equals[0], equals[-1])]
    snapshot = store_search.Snapshot(max_seq=10, revision=10)
    with endpoint.runtime.store.read() as conn:
        for field in store_search.SORT_KEYS:
            after = store_search.Cursor("20200101" if field == "DICOMStudyDateAndTime" else 0, 1, snapshot)
            for filters in filter_sets:
                for probe_limit in (0, 500):  # both plans: the sort index, or a filter's index (and a sort)
                    monkeypatch.setattr(store_search, "PROBE_LIMIT", probe_limit)
                    query = store_search.SearchQuery(datastore_id, filters, field, True)
                    plans = store_search.query_plan(conn, query) + store_search.query_plan(conn, query, after)
                    assert all(step.startswith(("SEARCH s USING INDEX", "USE TEMP B-TREE")) for step in plans), plans


# --- errors -----------------------------------------------------------------------------------------------

NOW = dt.datetime(2024, 3, 11, 15, 0, 5, 74000, tzinfo=UTC)
EARLIER = NOW - dt.timedelta(days=1)
DAY_ONE, DAY_TWO = study("20200101"), study("20200102")
#: (bad filter, a fragment of the message naming what is wrong with it)
BAD_FILTERS: list[tuple[dict[str, Any], str]] = [
    (equal("createdAt", NOW), "operator EQUAL is not supported for createdAt (use BETWEEN"),
    (equal("updatedAt", NOW), "operator EQUAL is not supported for updatedAt"),
    (equal("DICOMStudyDateAndTime", DAY_ONE), "operator EQUAL is not supported for DICOMStudyDateAndTime"),
    (between("DICOMPatientId", "A", "B"), "operator BETWEEN is not supported for DICOMPatientId (use EQUAL"),
    (between("isPrimary", False, True), "operator BETWEEN is not supported for isPrimary"),
    ({"operator": "EQUAL", "values": [{"DICOMPatientId": "A"}, {"DICOMPatientId": "B"}]}, "EQUAL takes exactly 1"),
    ({"operator": "BETWEEN", "values": [{"createdAt": NOW}]}, "BETWEEN takes exactly 2 values (lower bound, then"),
    ({"operator": "BETWEEN", "values": [{"createdAt": EARLIER}, {"updatedAt": NOW}]}, "found createdAt and updatedAt"),
    (between("createdAt", NOW, EARLIER), "the lower bound (values.1) of createdAt is after the upper bound (values.2)"),
    (between("updatedAt", NOW, EARLIER), "lower bound (values.1) of updatedAt is after"),
    (between("DICOMStudyDateAndTime", study("20200101", "01"), DAY_ONE), "of DICOMStudyDateAndTime is after"),
    (between("DICOMStudyDateAndTime", study("2020-01-01"), DAY_TWO), "values.1.member.DICOMStudyDateAndTime.DICOM"),
    (between("DICOMStudyDateAndTime", DAY_ONE, study("20200230")), "values.2.member.DICOMStudyDateAndTime.DICOM"),
    (between("DICOMStudyDateAndTime", study("20200101", "24"), DAY_TWO), "DICOMStudyTime must be a time as HHMMSS"),
    (between("DICOMStudyDateAndTime", study("20200101", "1260"), DAY_TWO), "DICOMStudyTime must be a time"),
    (between("DICOMStudyDateAndTime", study("20200101", "120000.1234567"), DAY_TWO), "DICOMStudyTime must be a time"),
    (between("DICOMStudyDateAndTime", study("20200101", "12:00:00"), DAY_TWO), "DICOMStudyTime must be a time"),
    (equal("DICOMSeriesInstanceUID", "1..2"), "values.1.member.DICOMSeriesInstanceUID is not a valid UID"),
    (equal("DICOMStudyInstanceUID", ".1.2"), "DICOMStudyInstanceUID is not a valid UID"),
    (equal("DICOMStudyInstanceUID", "1.2."), "is not a valid UID"),
    (equal("DICOMSeriesInstanceUID", "12345"), "is not a valid UID"),
]
#: (criteria boto3 would refuse to send, the model rule the endpoint reports)
MODEL_BREAKS: list[tuple[dict[str, Any], str]] = [
    ({"filters": []}, "'searchCriteria.filters' failed to satisfy constraint: Member must have length greater than"),
    ({"filters": [equal("DICOMPatientId", "A")] * 3}, "Member must have length less than or equal to 2"),
    (
        {"filters": [{"operator": "BETWEEN", "values": [{"createdAt": 1}, {"createdAt": 2}, {"createdAt": 3}]}]},
        "'searchCriteria.filters.1.member.values' failed to satisfy constraint: Member must have length less than",
    ),
    ({"filters": [{"operator": "LIKE", "values": [{"DICOMPatientId": "A"}]}]}, "enum value set: [EQUAL, BETWEEN]"),
    ({"filters": [equal("DICOMModality", "CT")]}, "Member must have exactly one of"),
    ({"filters": [{"operator": "EQUAL", "values": [{"DICOMPatientId": "A", "DICOMStudyId": "B"}]}]}, "found 2"),
    ({"filters": [equal("DICOMSeriesInstanceUID", "1.2.x")]}, "Member must satisfy regular expression pattern: [0-9.]"),
    ({"sort": ordered("DICOMPatientId", "ASC")}, "[updatedAt, createdAt, DICOMStudyDateAndTime]"),
    ({"sort": {"sortField": "updatedAt"}}, "Value null at 'searchCriteria.sort.sortOrder' failed to satisfy constraint"),
]


def test_a_bad_filter_is_a_validation_error_naming_it(mi: Any, datastore_id: str) -> None:
    for bad, fragment in BAD_FILTERS:
        with pytest.raises(ClientError) as refused:
            criteria = {"filters": [equal("isPrimary", True), bad]}
            mi.search_image_sets(datastoreId=datastore_id, searchCriteria=criteria)
        code, status, message = error_of(refused)
        assert (code, status) == ("ValidationException", 400), bad
        assert message.startswith("1 validation error detected: searchCriteria.filters.2.member"), message
        assert fragment in message, (fragment, message)


def test_every_bad_filter_is_reported(mi: Any, datastore_id: str) -> None:
    with pytest.raises(ClientError) as refused:
        bad = [equal("createdAt", NOW), between("DICOMStudyId", "1", "2")]
        mi.search_image_sets(datastoreId=datastore_id, searchCriteria={"filters": bad})
    message = error_of(refused)[2]
    assert message.startswith("2 validation errors detected: searchCriteria.filters.1.member: operator EQUAL")
    assert "searchCriteria.filters.2.member: operator BETWEEN is not supported for DICOMStudyId" in message


def test_model_limits_are_enforced_for_raw_requests(raw_request: Any, datastore_id: str) -> None:
    path = f"/datastore/{datastore_id}/searchImageSets"
    for criteria, fragment in MODEL_BREAKS:
        response = raw_request("POST", path, json.dumps(criteria).encode())
        assert (response.status, response.error_type) == (400, "ValidationException"), response.body
        assert fragment in response.json["message"], (fragment, response.json["message"])
    for size in ("0", "51"):
        response = raw_request("POST", f"{path}?maxResults={size}", b"{}")
        assert (response.status, response.error_type) == (400, "ValidationException")
        assert "'maxResults' failed to satisfy constraint" in response.json["message"]


def test_data_store_must_exist_and_be_active(endpoint: Any, mi: Any) -> None:
    with pytest.raises(ClientError) as unknown:
        mi.search_image_sets(datastoreId="0" * 32)
    assert error_of(unknown)[:2] == ("ResourceNotFoundException", 404)

    runtime = endpoint.runtime
    clock, frozen = runtime.clock, runtime.now()
    runtime.clock = lambda: frozen
    try:
        creating = mi.create_datastore(datastoreName="still-creating")["datastoreId"]
        with pytest.raises(ClientError) as not_active:
            mi.search_image_sets(datastoreId=creating)
        code, status, message = error_of(not_active)
        assert (code, status) == ("ConflictException", 409) and "CREATING" in message
    finally:
        runtime.clock = clock

    gone = active_datastore(mi, datastoreName="to-delete")["datastoreId"]
    mi.delete_datastore(datastoreId=gone)
    wait_for_status(mi, gone, "DELETED")
    with pytest.raises(ClientError) as deleted:
        mi.search_image_sets(datastoreId=gone)
    assert error_of(deleted)[:2] == ("ResourceNotFoundException", 404)


def test_an_empty_data_store_finds_nothing(mi: Any, datastore_id: str) -> None:
    criteria = {"filters": [equal("DICOMPatientId", "P")]}
    response = mi.search_image_sets(datastoreId=datastore_id, searchCriteria=criteria)
    assert response["imageSetsMetadataSummaries"] == [] and "nextToken" not in response
