"""SearchImageSets over the `image_sets` index: one keyset-ordered page of summaries per query.

Pages are ordered by (sort key, seq) and resume strictly after the last row served. A search also
pins a snapshot at its first page (the highest `seq` and the `search_clock` revision, migration
0003): later pages leave out image sets created or changed since, so a row is never served twice,
and a row that did not change is never skipped, whatever other writers do between pages.

Each query is driven by one index, picked here rather than by SQLite's planner (which, without
statistics, prefers a full scan in sort order over a selective filter, or a full sort of a wide range):
- under the default sort (updatedAt), an EQUAL filter's index drives: it holds its matches in
  updatedAt order (an id or UID before isPrimary);
- otherwise a filter on another field than the sort field drives when a bounded probe of its index
  finds few matching rows (below `PROBE_LIMIT`, more for ids: see there); they are read and sorted;
- otherwise the sort index drives (a range on the sort field bounds it), reading rows in order and
  checking the filters (from the index where it covers them) until the page is full. Every filter
  then matches many rows, so pages fill quickly unless two filters barely overlap.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

SortValue = Union[int, str]

#: Sort field -> (column, index ordered by datastore and that column).
SORT_KEYS: dict[str, tuple[str, str]] = {
    "updatedAt": ("updated_ms", "image_sets_search_updated"),
    "createdAt": ("created_ms", "image_sets_search_created"),
    "DICOMStudyDateAndTime": ("study_key", "image_sets_search_study_time"),
}
#: EQUAL filter key -> (column, index on datastore, column, updated_ms).
EQUAL_KEYS: dict[str, tuple[str, str]] = {
    "DICOMPatientId": ("patient_id", "image_sets_search_patient"),
    "DICOMAccessionNumber": ("accession_number", "image_sets_search_accession"),
    "DICOMStudyId": ("study_id", "image_sets_search_study_id"),
    "DICOMStudyInstanceUID": ("study_instance_uid", "image_sets_search_study_uid"),
    "DICOMSeriesInstanceUID": ("series_instance_uid", "image_sets_search_series_uid"),
    "isPrimary": ("is_primary", "image_sets_search_primary"),
}
ACCESS_PATHS = {**SORT_KEYS, **EQUAL_KEYS}
#: A filter's index drives when fewer than this many rows match it (they are read and sorted), for
#: filters the sort indexes cover (ranges, isPrimary); the sort index alone can skip their misses.
PROBE_LIMIT = 500
#: The same for ids and UIDs, times this: the sort indexes do not cover them, so scanning in sort
#: order reads a table row per miss (measured break-even near 3,000 matches in 100,000 image sets).
UNCOVERED_FACTOR = 6

SUMMARY_COLUMNS = (
    "seq",
    "image_set_id",
    "latest_version",
    "is_primary",
    "created_ms",
    "updated_ms",
    "patient_id",
    "patient_name",
    "patient_birth_date",
    "patient_sex",
    "accession_number",
    "study_instance_uid",
    "study_id",
    "study_description",
    "study_date",
    "study_time",
    "series_instance_uid",
    "series_modality",
    "series_body_part",
    "series_number",
    "number_of_study_related_series",
    "number_of_study_related_instances",
)


class _OnKey:
    """A filter on one search key: the column it tests and the index that reaches it."""

    key: str

    @property
    def column(self) -> str:
        return ACCESS_PATHS[self.key][0]

    @property
    def index(self) -> str:
        return ACCESS_PATHS[self.key][1]


@dataclass(frozen=True)
class Equal(_OnKey):
    """`key` equals `value`; None matches image sets without the attribute."""

    key: str
    value: str | bool | None

    def sql(self, name: str) -> tuple[str, dict[str, Any]]:
        if self.value is None:
            return f"s.{self.column} IS NULL", {}
        value = int(self.value) if isinstance(self.value, bool) else self.value
        return f"s.{self.column} = :{name}", {name: value}


@dataclass(frozen=True)
class Between(_OnKey):
    """`key` (a sort field) lies in [low, high], both inclusive, in the column's own units."""

    key: str
    low: SortValue
    high: SortValue

    def sql(self, name: str) -> tuple[str, dict[str, Any]]:
        sql = f"s.{self.column} BETWEEN :{name}_low AND :{name}_high"
        return sql, {f"{name}_low": self.low, f"{name}_high": self.high}


Filter = Union[Equal, Between]


@dataclass(frozen=True)
class SearchQuery:
    """What one search asks for: its data store, its filters (ANDed) and its order."""

    datastore_id: str
    filters: tuple[Filter, ...]
    sort_field: str = "updatedAt"
    descending: bool = True

    @property
    def sort_column(self) -> str:
        return SORT_KEYS[self.sort_field][0]


@dataclass(frozen=True)
class Snapshot:
    """What a search saw at its first page: rows with a higher seq or revision are not part of it."""

    max_seq: int
    revision: int


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: strictly after (sort_value, seq), within the first page's snapshot."""

    sort_value: SortValue
    seq: int
    snapshot: Snapshot


@dataclass(frozen=True)
class SummaryRow:
    """One search hit: the `image_sets` index columns of its latest version plus its sort key."""

    values: dict[str, Any]
    sort_value: SortValue

    @property
    def seq(self) -> int:
        return int(self.values["seq"])


def take_snapshot(conn: sqlite3.Connection) -> Snapshot:
    """The current high-water marks (inside the caller's read transaction)."""
    seq_row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'image_sets'").fetchone()
    revision_row = conn.execute("SELECT revision FROM search_clock WHERE id = 1").fetchone()
    return Snapshot(max_seq=int(seq_row[0]) if seq_row else 0, revision=int(revision_row[0]))


def search_page(conn: sqlite3.Connection, query: SearchQuery, cursor: Cursor | None, limit: int) -> list[SummaryRow]:
    """Up to `limit` live image sets matching `query`, in its order, after `cursor`."""
    sql, params = page_sql(conn, query, cursor, limit)
    rows = conn.execute(sql, params).fetchall()
    return [SummaryRow({name: row[name] for name in SUMMARY_COLUMNS}, row["sort_value"]) for row in rows]


def query_plan(conn: sqlite3.Connection, query: SearchQuery, cursor: Cursor | None = None) -> list[str]:
    """The EXPLAIN QUERY PLAN lines of one page (for the benchmark and tests)."""
    sql, params = page_sql(conn, query, cursor, 1)
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def page_sql(
    conn: sqlite3.Connection, query: SearchQuery, cursor: Cursor | None, limit: int
) -> tuple[str, dict[str, Any]]:
    """The statement and parameters of one page, through the index `driving_index` picks."""
    conditions = ["s.datastore_id = :datastore"]
    params: dict[str, Any] = {"datastore": query.datastore_id, "limit": limit}
    for number, item in enumerate(query.filters):
        condition, values = item.sql(f"f{number}")
        conditions.append(condition)
        params.update(values)
    sort = query.sort_column
    direction = "DESC" if query.descending else "ASC"
    if cursor is not None:
        conditions.append(f"(s.{sort}, s.seq) {'<' if query.descending else '>'} (:after_value, :after_seq)")
        # Unary + keeps the snapshot checks from steering the index choice.
        conditions.append("+s.seq <= :max_seq AND (s.search_revision IS NULL OR +s.search_revision <= :revision)")
        params.update(
            after_value=cursor.sort_value,
            after_seq=cursor.seq,
            max_seq=cursor.snapshot.max_seq,
            revision=cursor.snapshot.revision,
        )
    # DeleteImageSet sets deleted_at when the image set becomes DELETED (emulator/store/versions.py).
    conditions.append("s.deleted_at IS NULL")
    columns = ", ".join(f"s.{name}" for name in SUMMARY_COLUMNS)
    sql = (
        f"SELECT {columns}, s.{sort} AS sort_value FROM image_sets AS s INDEXED BY {driving_index(conn, query)}"
        f" WHERE {' AND '.join(conditions)} ORDER BY s.{sort} {direction}, s.seq {direction} LIMIT :limit"
    )
    return sql, params


def driving_index(conn: sqlite3.Connection, query: SearchQuery) -> str:
    """The index a search reads through (see the module docstring for the rule)."""
    sort_index = SORT_KEYS[query.sort_field][1]
    if query.sort_field == "updatedAt":
        equals = [item for item in query.filters if isinstance(item, Equal)]
        equals.sort(key=lambda item: item.key == "isPrimary")
        if equals:
            return equals[0].index  # (datastore, key, updated_ms): matches already in sort order
    best: tuple[int, str] | None = None
    for item in query.filters:
        if item.index == sort_index:
            continue
        limit = PROBE_LIMIT if item.key in SORT_KEYS or item.key == "isPrimary" else PROBE_LIMIT * UNCOVERED_FACTOR
        found = _probe(conn, query.datastore_id, item, limit)
        if found < limit and (best is None or found < best[0]):
            best = (found, item.index)
    return sort_index if best is None else best[1]


def _probe(conn: sqlite3.Connection, datastore_id: str, item: Filter, limit: int) -> int:
    """How many rows of the data store match one filter, counted up to `limit` (index only)."""
    condition, params = item.sql("p")
    row = conn.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM image_sets AS s INDEXED BY {item.index}"
        f" WHERE s.datastore_id = :datastore AND {condition} LIMIT :probe)",
        {**params, "datastore": datastore_id, "probe": limit},
    ).fetchone()
    return int(row[0])
