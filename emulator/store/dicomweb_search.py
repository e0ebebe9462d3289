"""QIDO-RS over the DICOMweb index: one page of studies, series or instances per query.

The tables are migration 0014's (emulator/store/dicomweb_index.py). Each query reads through one
index picked here (SQLite's planner, without statistics, prefers reading a whole data store in the
result order to a selective key): the index of the most selective equality key the query has (SOP,
series or study UID, PatientID, AccessionNumber, StudyID); else the name index for a PatientName
pattern with leading text (`SMITH*`); else the date index for a StudyDate range matching few studies;
else the index in the level's order (studies by last update, series by SeriesNumber, instances by
InstanceNumber), which ends the read once the page is full. A page then costs its rows, not the data
store's size (docs/dicomweb.md#qido-rs). A search of one image set (`imageSetId`) is small and left to
the planner.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Literal, Union

from ahi.emulator.store.dicomweb_index import INSTANCE_COLUMNS

Level = Literal["study", "series", "instance"]
#: Columns of `dicomweb_instances` an instance query reads from it (the rest come from its series row).
_INSTANCE_OWN = frozenset({"sop_uid", *INSTANCE_COLUMNS})
#: A StudyDate range drives the search when fewer studies than this match it (they are read and sorted).
DATE_PROBE_LIMIT = 2000
#: Per level: (column of an equality match, the index it drives), most selective first; then the order index.
_EQUAL_INDEXES: dict[str, tuple[tuple[str, str], ...]] = {
    "study": (
        ("study_uid", "dicomweb_studies_key"),
        ("patient_id", "dicomweb_studies_by_patient"),
        ("accession_number", "dicomweb_studies_by_accession"),
        ("study_id", "dicomweb_studies_by_study_id"),
    ),
    "series": (
        ("series_uid", "dicomweb_series_by_uid"),
        ("study_uid", "dicomweb_series_by_study"),
        ("patient_id", "dicomweb_series_by_patient"),
    ),
    "instance": (
        ("sop_uid", "dicomweb_instances_by_sop"),
        ("series_uid", "dicomweb_instances_by_series"),
        ("study_uid", "dicomweb_instances_by_study"),
    ),
}
_ORDER_INDEX = {
    "study": "dicomweb_studies_by_update",
    "series": "dicomweb_series_by_number",
    "instance": "dicomweb_instances_by_number",
}
_ORDER = {
    "study": "t.updated_ms DESC, t.study_uid DESC",
    "series": "t.series_number, t.series_uid",
    "instance": "i.instance_number, i.sop_uid",
}


@dataclass(frozen=True)
class Equal:
    """The column equals one of `values` (one value: single value matching; several: a UID list)."""

    column: str
    values: tuple[str, ...]
    nocase: bool = False

    def sql(self, alias: str, name: str) -> tuple[str, dict[str, Any]]:
        if len(self.values) == 1:
            collate = " COLLATE NOCASE" if self.nocase else ""
            return f"{alias}.{self.column} = :{name}{collate}", {name: self.values[0]}
        names = [f"{name}_{n}" for n in range(len(self.values))]
        marks = ", ".join(f":{item}" for item in names)
        return f"{alias}.{self.column} IN ({marks})", dict(zip(names, self.values))


@dataclass(frozen=True)
class Range:
    """The column lies between `low` and `high` (inclusive; None leaves that side open)."""

    column: str
    low: str | None
    high: str | None

    def sql(self, alias: str, name: str) -> tuple[str, dict[str, Any]]:
        parts, params = [], {}
        if self.low is not None:
            parts.append(f"{alias}.{self.column} >= :{name}_low")
            params[f"{name}_low"] = self.low
        if self.high is not None:
            parts.append(f"{alias}.{self.column} <= :{name}_high")
            params[f"{name}_high"] = self.high
        return " AND ".join(parts) or "1", params


@dataclass(frozen=True)
class Wildcard:
    """The column matches a pattern where `*` is any run of characters and `?` any one character."""

    column: str
    pattern: str
    nocase: bool = False

    @property
    def prefix(self) -> str:
        """The text before the first wildcard (lower case when the match ignores case)."""
        cut = min((index for index in (self.pattern.find("*"), self.pattern.find("?")) if index >= 0), default=len(self.pattern))
        return self.pattern[:cut].lower() if self.nocase else self.pattern[:cut]

    def sql(self, alias: str, name: str) -> tuple[str, dict[str, Any]]:
        glob = self.pattern.replace("[", "[[]")
        column = f"lower({alias}.{self.column})" if self.nocase else f"{alias}.{self.column}"
        sql, params = f"{column} GLOB :{name}", {name: glob.lower() if self.nocase else glob}
        if self.prefix:  # a range on the leading text, which an index on the column (or its lower case) can seek
            sql += f" AND {column} >= :{name}_low AND {column} < :{name}_high"
            params.update({f"{name}_low": self.prefix, f"{name}_high": self.prefix[:-1] + chr(ord(self.prefix[-1]) + 1)})
        return sql, params


@dataclass(frozen=True)
class WordPrefixes:
    """Fuzzy person name matching: every word given starts a word of the name (any case, any order)."""

    column: str
    words: tuple[str, ...]

    def sql(self, alias: str, name: str) -> tuple[str, dict[str, Any]]:
        spaced = f"' ' || lower(replace(replace(replace({alias}.{self.column}, '^', ' '), '=', ' '), ',', ' '))"
        parts, params = [], {}
        for number, word in enumerate(self.words):
            escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            parts.append(f"{spaced} LIKE :{name}_{number} ESCAPE '\\'")
            params[f"{name}_{number}"] = f"% {escaped}%"
        return " AND ".join(parts) or "1", params


@dataclass(frozen=True)
class HasValue:
    """One of the column's backslash-separated values equals `value` (ModalitiesInStudy)."""

    column: str
    value: str

    def sql(self, alias: str, name: str) -> tuple[str, dict[str, Any]]:
        return f"instr('\\' || {alias}.{self.column} || '\\', :{name}) > 0", {name: f"\\{self.value}\\"}


Match = Union[Equal, Range, Wildcard, WordPrefixes, HasValue]


@dataclass(frozen=True)
class QidoQuery:
    """One search: its level, its data store, its image set (None: primary image sets only), its matches."""

    level: Level
    datastore_id: str
    image_set_id: str | None
    matches: tuple[Match, ...]
    limit: int
    offset: int


def _alias(level: Level, column: str) -> str:
    return "i" if level == "instance" and column in _INSTANCE_OWN | {"study_uid", "series_uid"} else "t"


def driving_index(conn: sqlite3.Connection, query: QidoQuery) -> str | None:
    """The index a search reads through (see the module docstring); None leaves the choice to SQLite."""
    if query.image_set_id is not None:
        return None
    equal = {match.column for match in query.matches if isinstance(match, Equal)}
    for column, index in _EQUAL_INDEXES[query.level]:
        if column in equal:
            return index
    for match in query.matches:
        if query.level == "study" and isinstance(match, Wildcard) and match.column == "patient_name" and match.prefix:
            return "dicomweb_studies_by_name"
        if query.level == "study" and isinstance(match, Range) and match.column == "study_date":
            condition, params = match.sql("t", "p")
            found = conn.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM dicomweb_studies AS t INDEXED BY dicomweb_studies_by_date"
                f" WHERE t.datastore_id = :datastore AND t.scope = '' AND {condition} LIMIT :probe)",
                {**params, "datastore": query.datastore_id, "probe": DATE_PROBE_LIMIT},
            ).fetchone()[0]
            if found < DATE_PROBE_LIMIT:
                return "dicomweb_studies_by_date"
    return _ORDER_INDEX[query.level]


def page_sql(conn: sqlite3.Connection, query: QidoQuery) -> tuple[str, dict[str, Any]]:
    """The statement and parameters of one page."""
    params: dict[str, Any] = {"datastore": query.datastore_id, "limit": query.limit, "offset": query.offset}
    index = driving_index(conn, query)
    indexed = "" if index is None else f" INDEXED BY {index}"
    if query.level == "study":
        source = f"dicomweb_studies AS t{indexed}"
        conditions = ["t.datastore_id = :datastore"]
        if query.image_set_id is None:
            conditions.append("t.scope = ''")  # literally: the partial indexes of the primary rows match on it
        else:
            conditions.append("t.scope = :scope")
            params["scope"] = query.image_set_id
        columns = "t.*"
    else:
        owner = "i" if query.level == "instance" else "t"
        conditions = [f"{owner}.datastore_id = :datastore"]
        if query.image_set_id is None:
            conditions.append(f"{owner}.is_primary = 1")
        else:
            conditions.append(f"{owner}.image_set_id = :image_set_id")
            params["image_set_id"] = query.image_set_id
        if query.level == "series":
            source, columns = f"dicomweb_series AS t{indexed}", "t.*"
        else:
            source = (
                f"dicomweb_instances AS i{indexed} JOIN dicomweb_series AS t"
                " ON t.image_set_id = i.image_set_id AND t.series_uid = i.series_uid"
            )
            columns = "t.*, " + ", ".join(f"i.{name}" for name in sorted(_INSTANCE_OWN))
    for number, match in enumerate(query.matches):
        condition, values = match.sql(_alias(query.level, match.column), f"m{number}")
        conditions.append(condition)
        params.update(values)
    sql = (
        f"SELECT {columns} FROM {source} WHERE {' AND '.join(conditions)}"
        f" ORDER BY {_ORDER[query.level]} LIMIT :limit OFFSET :offset"
    )
    return sql, params


def search(conn: sqlite3.Connection, query: QidoQuery) -> list[dict[str, Any]]:
    """One page of matches, each a column -> value dict, in the level's order."""
    sql, params = page_sql(conn, query)
    return [dict(row) for row in conn.execute(sql, params)]


def query_plan(conn: sqlite3.Connection, query: QidoQuery) -> list[str]:
    """The EXPLAIN QUERY PLAN lines of one page (for the benchmark and tests)."""
    sql, params = page_sql(conn, query)
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def study_member(conn: sqlite3.Connection, datastore_id: str, study_uid: str, image_set_id: str | None) -> tuple[str, int] | None:
    """(image set id, version) whose document gives a study result's other attributes (its newest member)."""
    scope = "is_primary = 1" if image_set_id is None else "image_set_id = :image_set_id"
    row = conn.execute(
        f"SELECT image_set_id, version FROM dicomweb_series WHERE datastore_id = :datastore AND study_uid = :study"
        f" AND {scope} ORDER BY updated_ms DESC, image_set_id LIMIT 1",
        {"datastore": datastore_id, "study": study_uid, "image_set_id": image_set_id},
    ).fetchone()
    return None if row is None else (row[0], int(row[1]))
