"""QIDO-RS bench: p50/p95 of typical searches over 100,000 image sets, over HTTP and in the store.

Image sets are written straight into the endpoint's store by search.py's loader (the import's own
insert, which keeps the DICOMweb index as an import does): studies of 1-6 series, skewed patients,
20 years of study dates, a few non-primary or deleted. Scenarios are what viewers and PACS bridges
send: the study list (newest first, pages of 100, also deep in the list), a patient's studies, an
accession number, a month of study dates, a wildcard patient name, a study's series, a series'
instances, an instance by UID, and series by modality across studies. Each search is timed through
HTTP (requests, unsigned: verification off) and as the store query alone; the alternative, the same
statement with SQLite's own index choice instead of ours, is timed on a sample beside it
("ratio" = its p50 / ours). Also printed: the load time with the index maintained, the index's share
of the store, and each scenario's plan. Goal: p50 < 25 ms per search over HTTP.

    .venv/bin/python bench/qido.py [--count 100000] [--samples 40] [--state-dir DIR]

With --state-dir, a directory that already holds a loaded store is reused (the load takes a while).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import requests
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search import REGION, loaded, percentiles  # noqa: E402

from ahi.emulator.config import EndpointConfig  # noqa: E402
from ahi.emulator.dicomweb import qido_params  # noqa: E402
from ahi.emulator.server import LocalEndpoint  # noqa: E402
from ahi.emulator.store import dicomweb_search  # noqa: E402
from ahi.emulator.store.db import Store  # noqa: E402
from ahi.emulator.store.dicomweb_search import Equal, QidoQuery  # noqa: E402

GOAL_MS = 25.0
ACCEPT = {"Accept": "application/dicom+json"}


@dataclass(frozen=True)
class Population:
    """What the store holds, for drawing queries: one data store's patients, studies and series."""

    datastore_id: str
    patients: list[str]
    studies: list[tuple[str, str, str]]  # (study UID, accession number, study date)
    series: list[tuple[str, str]]  # (study UID, series UID)


def population(store: Store) -> Population | None:
    with store.read() as conn:
        row = conn.execute(
            "SELECT datastore_id FROM image_sets GROUP BY datastore_id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        datastore_id = row[0]
        studies = conn.execute(
            "SELECT study_uid, accession_number, study_date, patient_id FROM dicomweb_studies"
            " WHERE datastore_id = ? AND scope = ''",
            (datastore_id,),
        ).fetchall()
        series = conn.execute(
            "SELECT study_uid, series_uid FROM dicomweb_series WHERE datastore_id = ? AND is_primary = 1", (datastore_id,)
        ).fetchall()
    return Population(
        datastore_id,
        sorted({study[3] for study in studies}),
        [(study[0], study[1], study[2]) for study in studies],
        [(item[0], item[1]) for item in series],
    )


def scenarios(data: Population, rnd: random.Random) -> dict[str, Callable[[], tuple[str, dict[str, str]]]]:
    """Scenario name -> a function drawing one (path, query parameters)."""

    def month() -> tuple[str, dict[str, str]]:
        day = rnd.choice(data.studies)[2]
        return "/studies", {"StudyDate": f"{day[:6]}01-{day[:6]}31"}

    def name() -> tuple[str, dict[str, str]]:
        patient = rnd.choice(data.patients)
        return "/studies", {"PatientName": f"Patient^{int(patient[3:])}*"}

    def series_of_study() -> tuple[str, dict[str, str]]:
        return f"/studies/{rnd.choice(data.series)[0]}/series", {}

    def instances_of_series() -> tuple[str, dict[str, str]]:
        study, series = rnd.choice(data.series)
        return f"/studies/{study}/series/{series}/instances", {}

    return {
        "studies, newest first (limit 100)": lambda: ("/studies", {"limit": "100"}),
        "studies, offset 5000 (limit 100)": lambda: ("/studies", {"limit": "100", "offset": "5000"}),
        "PatientID": lambda: ("/studies", {"PatientID": rnd.choice(data.patients)}),
        "AccessionNumber": lambda: ("/studies", {"AccessionNumber": rnd.choice(data.studies)[1]}),
        "StudyDate, a month": month,
        "PatientName wildcard": name,
        "series of a study": series_of_study,
        "instances of a series": instances_of_series,
        "instance by SOPInstanceUID": lambda: ("/instances", {"SOPInstanceUID": f"{rnd.choice(data.series)[1]}.1"}),
        "series by Modality (limit 100)": lambda: ("/series", {"Modality": "CT", "limit": "100"}),
    }


def store_query(data: Population, path: str, params: dict[str, str]) -> QidoQuery:
    """The store query the endpoint runs for one search (the handler's own parsing)."""
    parts = path.strip("/").split("/")
    level: dicomweb_search.Level = {"studies": "study", "series": "series", "instances": "instance"}[parts[-1]]  # type: ignore[assignment]
    fixed = [Equal(column, (value,)) for column, value in zip(("study_uid", "series_uid"), parts[1::2])]
    parsed = qido_params.parse(__import__("werkzeug").datastructures.MultiDict(params), level)
    return QidoQuery(level, data.datastore_id, None, (*fixed, *parsed.matches), parsed.limit, parsed.offset)


@dataclass
class Figures:
    http: list[float] = field(default_factory=list)
    store: list[float] = field(default_factory=list)
    sqlite_choice: list[float] = field(default_factory=list)
    results: list[int] = field(default_factory=list)
    plans: set[str] = field(default_factory=set)

    def row(self, name: str) -> str:
        ratio = statistics.median(self.sqlite_choice) / max(statistics.median(self.store), 1e-6)
        return (
            f"{name:36s} {percentiles(self.http)}   {percentiles(self.store)}   {percentiles(self.sqlite_choice)}"
            f"  {ratio:7.1f}x  {statistics.median(self.results):6.0f}"
        )


HEADER = (
    f"{'scenario (ms per search)':36s} {'HTTP p50':>8s} {'p95':>8s}   {'store':>7s} {'p95':>8s}   {'SQLite':>7s}"
    f" {'p95':>8s}  {'ratio':>8s}  {'results':>6s}"
)


def timed_store(store: Store, query: QidoQuery, ours: bool) -> tuple[float, int, str]:
    with store.read() as conn:
        sql, params = dicomweb_search.page_sql(conn, query)
        if not ours:
            sql = re.sub(r" INDEXED BY \w+", "", sql)
        started = time.perf_counter()
        rows = conn.execute(sql, params).fetchall()
        elapsed = (time.perf_counter() - started) * 1000
        plan = " | ".join(dicomweb_search.query_plan(conn, query)) if ours else ""
    return elapsed, len(rows), plan


def measure(session: requests.Session, base: str, store: Store, data: Population, draw: Callable[[], tuple[str, dict[str, str]]], samples: int) -> Figures:
    figures = Figures()
    for sample in range(samples):
        path, params = draw()
        started = time.perf_counter()
        response = session.get(base + path, params=params, headers=ACCEPT, timeout=60)
        figures.http.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 204), (path, params, response.status_code, response.text[:200])
        query = store_query(data, path, params)
        elapsed, count, plan = timed_store(store, query, ours=True)
        figures.store.append(elapsed)
        figures.results.append(count)
        figures.plans.add(plan)
        if sample < max(samples // 5, 3):  # SQLite's own choice can be slow: a sample is enough
            figures.sqlite_choice.append(timed_store(store, query, ours=False)[0])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="image sets to load (default 100000)")
    parser.add_argument("--samples", type=int, default=40, help="searches per scenario (default 40)")
    parser.add_argument("--state-dir", type=Path, help="keep (and reuse) the loaded store here")
    args = parser.parse_args()
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="ahi-bench-qido-"))
    with LocalEndpoint(EndpointConfig(state_dir=state_dir, datastore_transition_seconds=0.0)) as endpoint:
        assert endpoint.runtime is not None
        store = endpoint.runtime.store
        session = requests.Session()
        mi = boto3.client(
            "medical-imaging",
            region_name=REGION,
            endpoint_url=endpoint.url,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
        )
        loaded(endpoint, mi, args.count, state_dir)  # search.py's load, which keeps the DICOMweb index as it goes
        data = population(store)
        assert data is not None
        with store.read() as conn:
            index_bytes = conn.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'dicomweb%' OR name LIKE 'sqlite_autoindex_dicomweb%'"
            ).fetchone()[0]
        size_mb = sum(path.stat().st_size for path in state_dir.glob("state.sqlite3*")) / 1e6
        index_mb = (index_bytes or 0) / 1e6
        print(f"store {size_mb:.0f} MB, of which the DICOMweb index {index_mb:.0f} MB; {len(data.studies):,} primary studies")
        base = f"{endpoint.url}/datastore/{data.datastore_id}"
        floor = []
        for _ in range(30):
            started = time.perf_counter()
            session.get(base + "/studies", params={"PatientID": "none"}, headers=ACCEPT)
            floor.append((time.perf_counter() - started) * 1000)
        print(f"HTTP floor (an empty search): p50 {statistics.median(floor):.2f} ms\n")
        print(f"{HEADER}\n{'-' * len(HEADER)}")
        failures: list[str] = []
        plans: dict[str, set[str]] = {}
        for name, draw in scenarios(data, random.Random(7)).items():
            figures = measure(session, base, store, data, draw, args.samples)
            print(figures.row(name))
            plans[name] = figures.plans
            if statistics.median(figures.http) >= GOAL_MS:
                failures.append(f"{name}: HTTP p50 {statistics.median(figures.http):.1f} ms")
        print("\nstore: the search's query alone; SQLite: the same query with SQLite's own index choice; ratio = SQLite / store")
        print("\nplans (EXPLAIN QUERY PLAN):")
        for name, seen in plans.items():
            for plan in sorted(seen):
                print(f"  {name:36s} {plan}")
        verdict = "met" if not failures else "NOT met: " + "; ".join(failures)
        print(f"\ngoal p50 < {GOAL_MS:.0f} ms per search over HTTP: {verdict}")


if __name__ == "__main__":
    main()
