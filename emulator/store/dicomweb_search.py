"""QIDO-RS over the DICOMweb index: one page of studies, series or instances per query.

The tables are migration 0014's (emulator/store/dicomweb_index.py). A query reads through SQLite's
choice among their indexes: each ordering has one (studies by last update, series by SeriesNumber,
instances by InstanceNumber) and each usual key has one (UIDs, PatientID, AccessionNumber, StudyDate,
StudyID), so a page costs its rows, not the data store's size (docs/dicomweb.md#qido-rs).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Literal, Union

from ahi.emulator.store.dicomweb_index import INSTANCE_COLUMNS, PRIMARY_SCOPE

Level = Literal["study", "series", "instance"]
#: Columns of `dicomweb_instances` an instance query reads from it (the rest come from its series row).
_INSTANCE_OWN = frozenset({"sop_uid", *INSTANCE_COLUMNS})
_ORDER = {
    "study": "t.updated_ms DESC, t.study_uid",
    "series": "t.series_number, t.series_uid, t.image_set_id",
    "instance": "i.instance_number, i.sop_uid, i.image_set_id",
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

    def sql(self, alias: str, name: str) -> tuple[str, dict[str, Any]]:
        glob = self.pattern.replace("[", "[[]")
        if self.nocase:
            return f"lower({alias}.{self.column}) GLOB :{name}", {name: glob.lower()}
        return f"{alias}.{self.column} GLOB :{name}", {name: glob}


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


def page_sql(query: QidoQuery) -> tuple[str, dict[str, Any]]:
    """The statement and parameters of one page."""
    params: dict[str, Any] = {"datastore": query.datastore_id, "limit": query.limit, "offset": query.offset}
    if query.level == "study":
        source = "dicomweb_studies AS t"
        conditions = ["t.datastore_id = :datastore", "t.scope = :scope"]
        params["scope"] = PRIMARY_SCOPE if query.image_set_id is None else query.image_set_id
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
            source, columns = "dicomweb_series AS t", "t.*"
        else:
            source = (
                "dicomweb_instances AS i JOIN dicomweb_series AS t"
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
    sql, params = page_sql(query)
    return [dict(row) for row in conn.execute(sql, params)]


def query_plan(conn: sqlite3.Connection, query: QidoQuery) -> list[str]:
    """The EXPLAIN QUERY PLAN lines of one page (for the benchmark and tests)."""
    sql, params = page_sql(query)
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
