"""SearchImageSets bench: p50/p95 per page of 50 over 100,000 image sets, through boto3 and in the store.

Image sets are written straight into the endpoint's store with the import's own insert
(`emulator.store.imagesets.insert_image_set`), with a realistic spread: studies of 1-6 series (one
image set each), patients with skewed study counts, study dates over 20 years (more recent ones
more often), imports over the last year, a fifth updated later, a few non-primary or deleted.
Scenarios: EQUAL on DICOMPatientId, BETWEEN on DICOMStudyDateAndTime (a month), createdAt (a day) and
updatedAt (a week), and empty criteria in each sort order; each runs first pages and follow-up pages.
Every page is timed through boto3 over HTTP and as the in-store query alone; the alternative, the
same statement with SQLite's own index choice instead of ours (a sample), is timed beside it
("ratio" = its p50 / ours). Client and endpoint share one process; its CPU time per page is printed
too, since wall time on a shared machine includes waiting for a core. The plans (EXPLAIN QUERY
PLAN) are printed and checked to go through an index. Goal: p50 < 25 ms per page through HTTP.

    .venv/bin/python bench/search.py [--count 100000] [--samples 60] [--state-dir DIR]

With --state-dir, a directory that already holds a loaded store is reused (the load takes a while).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ahi.emulator.config import EndpointConfig  # noqa: E402
from ahi.emulator.context import RequestContext  # noqa: E402
from ahi.emulator.handlers.search import parse_filters, search_image_sets  # noqa: E402
from ahi.emulator.ids import new_id  # noqa: E402
from ahi.emulator.server import LocalEndpoint  # noqa: E402
from ahi.emulator.store import search as store_search  # noqa: E402
from ahi.emulator.store.db import Store  # noqa: E402
from ahi.emulator.store.imagesets import insert_image_set  # noqa: E402

GOAL_MS = 25.0
PAGE = 50
ACCOUNT, REGION = "123456789012", "us-east-1"
DAY = 86_400.0
UTC = dt.timezone.utc


# --- data -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """What the loader wrote, for drawing realistic queries."""

    datastore_id: str
    patients: list[str]
    now: float


@dataclass(frozen=True)
class Generated:
    """One image set to load: its metadata document, times and flags."""

    document: dict[str, Any]
    created_at: float
    updated_at: float
    is_primary: bool
    deleted: bool


def dicom_time(rnd: random.Random) -> str | None:
    """A StudyTime as scanners write it: mostly HHMMSS, some with fractions, a few missing."""
    if rnd.random() < 0.05:
        return None
    text = f"{rnd.randrange(24):02d}{rnd.randrange(60):02d}{rnd.randrange(60):02d}"
    return text + ".000000" if rnd.random() < 0.3 else text


def generate(count: int, datastore_id: str, rnd: random.Random, now: float) -> Iterator[Generated]:
    """`count` image sets, study by study (one image set per series)."""
    patients = max(count // 8, 1)
    first_day = dt.date(2005, 1, 1)
    span_days = (dt.date(2024, 12, 31) - first_day).days
    made = study = 0
    while made < count:
        study += 1
        patient = int(patients * rnd.random() ** 2)  # a few patients have many studies
        study_uid = f"1.2.826.0.1.3680043.8.498.{study}"
        study_day = first_day + dt.timedelta(days=int(span_days * rnd.random() ** 0.7))  # recent years more often
        study_time = dicom_time(rnd)
        created = now - 365 * DAY * rnd.random()
        series_count = rnd.choices((1, 2, 3, 4, 6), weights=(40, 25, 15, 10, 10))[0]
        study_tags = {
            "StudyInstanceUID": study_uid,
            "StudyID": str(study % 100_000),
            "AccessionNumber": f"ACC{study:08d}",
            "StudyDate": study_day.strftime("%Y%m%d"),
            **({"StudyTime": study_time} if study_time else {}),
            "StudyDescription": "BENCH",
        }
        patient_tags = {"PatientID": f"PAT{patient:06d}", "PatientName": f"Patient^{patient}", "PatientSex": "O"}
        for series in range(1, min(series_count, count - made) + 1):
            series_uid = f"{study_uid}.{series}"
            modality = rnd.choice(("CT", "MR", "CR"))
            series_tags = {"SeriesInstanceUID": series_uid, "Modality": modality, "SeriesNumber": str(series)}
            document = {
                "SchemaVersion": "1.1",
                "DatastoreID": datastore_id,
                "Patient": {"DICOM": patient_tags},
                "Study": {
                    "DICOM": study_tags,
                    "Series": {series_uid: {"DICOM": series_tags, "Instances": {f"{series_uid}.1": {}}}},
                },
            }
            updated = created if rnd.random() < 0.8 else min(now, created + 30 * DAY * rnd.random())
            yield Generated(document, created, updated, is_primary=rnd.random() < 0.97, deleted=rnd.random() < 0.01)
            made += 1


def load(store: Store, datastore_id: str, count: int, now: float) -> None:
    """Write `count` image sets in batches of 2,000 (one transaction each, as imports commit)."""
    items = generate(count, datastore_id, random.Random(5), now)
    while batch := list(itertools.islice(items, 2000)):
        with store.transaction() as tx:
            for item in batch:
                image_set_id = new_id()
                insert_image_set(
                    tx,
                    image_set_id=image_set_id,
                    datastore_id=datastore_id,
                    account_id=ACCOUNT,
                    region=REGION,
                    document={**item.document, "ImageSetID": image_set_id},
                    frames=[],
                    now=item.created_at,
                    is_primary=item.is_primary,
                )
                key = (image_set_id,)
                if item.updated_at != item.created_at:
                    tx.execute("UPDATE image_sets SET updated_at = ? WHERE image_set_id = ?", (item.updated_at, *key))
                if item.deleted:  # as a settled DeleteImageSet leaves it
                    tx.execute("UPDATE image_set_versions SET state = 'DELETED' WHERE image_set_id = ?", key)
                    tx.execute("UPDATE image_sets SET deleted_at = ? WHERE image_set_id = ?", (item.updated_at, *key))


def population(store: Store) -> Population | None:
    """What an earlier run loaded into this store, if anything."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT datastore_id, MAX(created_at) FROM image_sets GROUP BY datastore_id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        patients = conn.execute("SELECT patient_id FROM image_sets WHERE datastore_id = ?", (row[0],))
        return Population(datastore_id=row[0], patients=[found[0] for found in patients], now=float(row[1]))


# --- scenarios --------------------------------------------------------------------------------------------


def day_string(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%d")


def scenarios(data: Population, rnd: random.Random) -> dict[str, Callable[[], dict[str, Any]]]:
    """Scenario name -> a function drawing one searchCriteria."""

    def patient(sort: dict[str, str] | None = None) -> dict[str, Any]:
        value = {"DICOMPatientId": rnd.choice(data.patients)}
        criteria: dict[str, Any] = {"filters": [{"operator": "EQUAL", "values": [value]}]}
        return {**criteria, "sort": sort} if sort else criteria

    def study_month(sort: dict[str, str] | None = None) -> dict[str, Any]:
        start = dt.date(2005, 1, 1) + dt.timedelta(days=rnd.randrange(7000))
        days = (start, start + dt.timedelta(days=31))
        bounds = [{"DICOMStudyDateAndTime": {"DICOMStudyDate": day.strftime("%Y%m%d")}} for day in days]
        criteria: dict[str, Any] = {"filters": [{"operator": "BETWEEN", "values": bounds}]}
        return {**criteria, "sort": sort} if sort else criteria

    def window(key: str, days: float) -> Callable[[], dict[str, Any]]:
        def draw() -> dict[str, Any]:
            start = data.now - 365 * DAY * rnd.random()
            low, high = (dt.datetime.fromtimestamp(at, UTC) for at in (start, start + days * DAY))
            return {"filters": [{"operator": "BETWEEN", "values": [{key: low}, {key: high}]}]}

        return draw

    def everything(field_name: str, order: str) -> Callable[[], dict[str, Any]]:
        return lambda: {"sort": {"sortField": field_name, "sortOrder": order}}

    by_study_date = {"sortField": "DICOMStudyDateAndTime", "sortOrder": "ASC"}
    return {
        "EQUAL DICOMPatientId": patient,
        "  same, sorted by createdAt ASC": lambda: patient({"sortField": "createdAt", "sortOrder": "ASC"}),
        "BETWEEN DICOMStudyDateAndTime (month)": study_month,
        "  same, sorted by study date ASC": lambda: study_month(by_study_date),
        "BETWEEN createdAt (day)": window("createdAt", 1),
        "BETWEEN updatedAt (week)": window("updatedAt", 7),
        "empty criteria (updatedAt DESC)": lambda: {},
        "  empty, createdAt ASC": everything("createdAt", "ASC"),
        "  empty, DICOMStudyDateAndTime DESC": everything("DICOMStudyDateAndTime", "DESC"),
    }


def to_query(datastore_id: str, criteria: dict[str, Any]) -> store_search.SearchQuery:
    sort = criteria.get("sort", {"sortField": "updatedAt", "sortOrder": "DESC"})
    filters = parse_filters(criteria.get("filters", []))  # the handler's own parsing; datetimes as boto3 sends them
    return store_search.SearchQuery(datastore_id, filters, sort["sortField"], sort["sortOrder"] == "DESC")


# --- measuring --------------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> str:
    if not samples:
        return f"{'-':>7s}  {'-':>7s}"
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{statistics.median(ordered):7.2f}  {p95:7.2f}"


def http_pages(mi: Any, datastore_id: str, criteria: dict[str, Any], pages: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each page of one search through boto3 (up to `pages` pages).

    Client and endpoint share this process, so CPU time is both sides' work, without the time spent
    waiting for a core on a busy machine.
    """
    times: list[float] = []
    cpu: list[float] = []
    request: dict[str, Any] = {"datastoreId": datastore_id, "searchCriteria": criteria, "maxResults": PAGE}
    for _ in range(pages):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = mi.search_image_sets(**request)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if "nextToken" not in response:
            break
        request["nextToken"] = response["nextToken"]
    return times, cpu


def handler_pages(ctx: RequestContext, datastore_id: str, criteria: dict[str, Any], pages: int) -> list[float]:
    """Milliseconds of each page in the endpoint's handler alone (store, summaries, token; no HTTP)."""
    times: list[float] = []
    params: dict[str, Any] = {"datastoreId": datastore_id, "searchCriteria": criteria, "maxResults": PAGE}
    for _ in range(pages):
        started = time.perf_counter()
        output = search_image_sets(ctx, params)
        times.append((time.perf_counter() - started) * 1000)
        if "nextToken" not in output:
            break
        params["nextToken"] = output["nextToken"]
    return times


def store_pages(
    store: Store, query: store_search.SearchQuery, pages: int, ours: bool = True
) -> tuple[list[float], list[str]]:
    """Milliseconds of each page as the in-store query alone (ours, or SQLite's index choice), and our plans."""
    times: list[float] = []
    plans: list[str] = []
    with store.read() as conn:
        snapshot = store_search.take_snapshot(conn)
        cursor: store_search.Cursor | None = None
        for _ in range(pages):
            started = time.perf_counter()
            sql, params = store_search.page_sql(conn, query, cursor, PAGE + 1)
            if not ours:
                sql = re.sub(r" INDEXED BY \w+", "", sql)
            rows = conn.execute(sql, params).fetchall()
            times.append((time.perf_counter() - started) * 1000)
            if ours:
                plans.append(" | ".join(store_search.query_plan(conn, query, cursor)))
            if len(rows) <= PAGE:
                break
            last = rows[PAGE - 1]
            cursor = store_search.Cursor(last["sort_value"], last["seq"], snapshot)
    return times, plans


@dataclass
class Figures:
    """Per-page milliseconds of one scenario, by path."""

    http: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    handler: list[float] = field(default_factory=list)
    store: list[float] = field(default_factory=list)
    sqlite_choice: list[float] = field(default_factory=list)
    plans: set[str] = field(default_factory=set)

    def row(self, name: str) -> str:
        ratio = statistics.median(self.sqlite_choice) / statistics.median(self.store)
        return (
            f"{name:38s} {percentiles(self.http)}  {statistics.median(self.cpu):7.2f}   {percentiles(self.handler)}"
            f"   {percentiles(self.store)}   {percentiles(self.sqlite_choice)}  {ratio:5.1f}x"
        )


HEADER = (
    f"{'scenario (ms per page of 50)':38s} {'HTTP p50':>8s} {'p95':>8s}  {'CPU p50':>7s}   {'handler':>7s} {'p95':>8s}"
    f"   {'store':>7s} {'p95':>8s}   {'SQLite':>7s} {'p95':>8s}  {'ratio':>6s}"
)


def measure(mi: Any, ctx: RequestContext, data: Population, draw: Callable[[], dict[str, Any]], args: Any) -> Figures:
    figures = Figures()
    for sample in range(args.samples):
        criteria = draw()
        wall, used = http_pages(mi, data.datastore_id, criteria, args.pages)
        figures.http += wall
        figures.cpu += used
        figures.handler += handler_pages(ctx, data.datastore_id, criteria, args.pages)
        query = to_query(data.datastore_id, criteria)
        times, plans = store_pages(ctx.runtime.store, query, args.pages)
        figures.store += times
        figures.plans.update(plans)
        if sample < max(args.samples // 6, 3):  # SQLite's own choice can be slow: a sample is enough
            figures.sqlite_choice += store_pages(ctx.runtime.store, query, args.pages, ours=False)[0]
    return figures


def loaded(endpoint: LocalEndpoint, mi: Any, count: int, state_dir: Path) -> Population:
    """The population of the store, loading `count` image sets first unless an earlier run did."""
    data = population(endpoint.runtime.store)
    if data is not None and len(data.patients) >= count:
        print(f"reusing {len(data.patients):,} image sets in {state_dir}")
        return data
    datastore_id = mi.create_datastore(datastoreName="search-bench")["datastoreId"]
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        time.sleep(0.01)
    started = time.perf_counter()
    load(endpoint.runtime.store, datastore_id, count, now=time.time())
    print(f"loaded {count:,} image sets in {time.perf_counter() - started:.1f} s into {state_dir}")
    data = population(endpoint.runtime.store)
    assert data is not None
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="image sets to load (default 100000)")
    parser.add_argument("--samples", type=int, default=60, help="searches per scenario (default 60)")
    parser.add_argument("--pages", type=int, default=4, help="pages followed per search (default 4)")
    parser.add_argument("--state-dir", type=Path, help="keep (and reuse) the loaded store here")
    args = parser.parse_args()

    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="ahi-bench-search-"))
    with LocalEndpoint(EndpointConfig(state_dir=state_dir, datastore_transition_seconds=0.0)) as endpoint:
        mi = boto3.client(
            "medical-imaging",
            region_name=REGION,
            endpoint_url=endpoint.url,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
        )
        data = loaded(endpoint, mi, args.count, state_dir)
        ctx = RequestContext("SearchImageSets", endpoint.runtime.config.account_id, REGION, "bench", endpoint.runtime)
        size_mb = sum(path.stat().st_size for path in state_dir.glob("state.sqlite3*")) / 1e6
        print(f"store {size_mb:.0f} MB; pages of {PAGE}; {args.samples} searches x up to {args.pages} pages each")
        nothing = {"filters": [{"operator": "EQUAL", "values": [{"DICOMPatientId": "none"}]}]}
        floor = [http_pages(mi, data.datastore_id, nothing, 1)[0][0] for _ in range(30)]
        print(f"HTTP floor (an empty page through boto3): p50 {statistics.median(floor):.2f} ms\n")
        print(f"{HEADER}\n{'-' * len(HEADER)}")
        failures: list[str] = []
        plans: dict[str, set[str]] = {}
        for name, draw in scenarios(data, random.Random(11)).items():
            figures = measure(mi, ctx, data, draw, args)
            print(figures.row(name))
            plans[name.strip()] = figures.plans
            if statistics.median(figures.http) >= GOAL_MS:
                failures.append(f"{name.strip()}: HTTP p50 {statistics.median(figures.http):.1f} ms")
        print("\nhandler: the endpoint's work without HTTP; store: the page's query alone; SQLite: the same query")
        print("with SQLite's own index choice instead of ours; ratio = SQLite / store (p50)")
        print("\nplans (EXPLAIN QUERY PLAN, first and follow-up pages):")
        for name, seen in plans.items():
            for plan in sorted(seen):
                indexed = "USING INDEX" in plan and "SCAN" not in plan
                if not indexed:
                    failures.append(f"{name}: {plan}")
                print(f"  {name:36s} {plan}{'' if indexed else '   <-- not through an index'}")
        verdict = "met" if not failures else "NOT met: " + "; ".join(failures)
        print(f"\ngoal p50 < {GOAL_MS:.0f} ms per page through HTTP: {verdict}")


if __name__ == "__main__":
    main()
