"""Data store rows: insert, look up, list and move through timed status transitions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from ahi.emulator.arns import datastore_arn

#: A row is `status` until `transition_at`, then `next_status`; reads derive the current value.
EFFECTIVE_STATUS = (
    "CASE WHEN transition_at IS NOT NULL AND transition_at <= :now THEN next_status ELSE status END"
)
EFFECTIVE_UPDATED_AT = (
    "CASE WHEN transition_at IS NOT NULL AND transition_at <= :now THEN transition_at ELSE updated_at END"
)
COLUMNS = (
    "seq, datastore_id, account_id, region, name, kms_key_arn, lambda_authorizer_arn, "
    f"lossless_storage_format, created_at, {EFFECTIVE_STATUS} AS status, {EFFECTIVE_UPDATED_AT} AS updated_at"
)


@dataclass(frozen=True)
class Datastore:
    """A data store as callers see it at one instant."""

    seq: int
    datastore_id: str
    account_id: str
    region: str
    name: str
    status: str
    kms_key_arn: str | None
    lambda_authorizer_arn: str | None
    lossless_storage_format: str
    created_at: float
    updated_at: float

    @property
    def arn(self) -> str:
        return datastore_arn(self.region, self.account_id, self.datastore_id)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Datastore:
        return cls(**{name: row[name] for name in row.keys()})


def insert_datastore(
    tx: sqlite3.Connection,
    *,
    datastore_id: str,
    account_id: str,
    region: str,
    name: str,
    kms_key_arn: str | None,
    lambda_authorizer_arn: str | None,
    lossless_storage_format: str,
    now: float,
    settles_as: str,
    settles_at: float,
) -> None:
    """A new data store, CREATING until `settles_at`, then `settles_as` (ACTIVE or CREATE_FAILED)."""
    tx.execute(
        "INSERT INTO datastores (datastore_id, account_id, region, name, status, next_status,"
        " transition_at, kms_key_arn, lambda_authorizer_arn, lossless_storage_format, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, 'CREATING', ?, ?, ?, ?, ?, ?, ?)",
        (
            datastore_id,
            account_id,
            region,
            name,
            settles_as,
            settles_at,
            kms_key_arn,
            lambda_authorizer_arn,
            lossless_storage_format,
            now,
            now,
        ),
    )


def get_datastore(
    conn: sqlite3.Connection, account_id: str, region: str, datastore_id: str, now: float
) -> Datastore | None:
    """The data store with this id in the caller's account and region, as of `now`."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM datastores"
        " WHERE datastore_id = :id AND account_id = :account AND region = :region",
        {"id": datastore_id, "account": account_id, "region": region, "now": now},
    ).fetchone()
    return None if row is None else Datastore.from_row(row)


def find_datastore(conn: sqlite3.Connection, datastore_id: str, now: float) -> Datastore | None:
    """The data store with this id in whichever account and region holds it (a bearer token names neither)."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM datastores WHERE datastore_id = :id", {"id": datastore_id, "now": now}
    ).fetchone()
    return None if row is None else Datastore.from_row(row)


def list_datastores(
    conn: sqlite3.Connection,
    account_id: str,
    region: str,
    now: float,
    *,
    status: str | None,
    after_seq: int | None,
    limit: int,
) -> list[Datastore]:
    """Data stores in creation order after `after_seq`, optionally only those in `status`."""
    rows = conn.execute(
        f"SELECT * FROM (SELECT {COLUMNS} FROM datastores"
        " WHERE account_id = :account AND region = :region AND seq > :after)"
        " WHERE :status IS NULL OR status = :status ORDER BY seq LIMIT :limit",
        {
            "account": account_id,
            "region": region,
            "now": now,
            "after": after_seq if after_seq is not None else -1,
            "status": status,
            "limit": limit,
        },
    ).fetchall()
    return [Datastore.from_row(row) for row in rows]


def all_datastores(conn: sqlite3.Connection, now: float) -> list[Datastore]:
    """Every data store of every account and region, in creation order."""
    rows = conn.execute(f"SELECT {COLUMNS} FROM datastores ORDER BY seq", {"now": now}).fetchall()
    return [Datastore.from_row(row) for row in rows]


def count_datastores(
    conn: sqlite3.Connection, account_id: str, region: str, now: float, statuses: Iterable[str]
) -> int:
    """How many of the caller's data stores in this region are in one of `statuses`."""
    wanted = {f"status{i}": status for i, status in enumerate(statuses)}
    marks = ", ".join(f":{name}" for name in wanted)
    row = conn.execute(
        f"SELECT COUNT(*) FROM datastores WHERE account_id = :account AND region = :region"
        f" AND ({EFFECTIVE_STATUS}) IN ({marks})",
        {"account": account_id, "region": region, "now": now, **wanted},
    ).fetchone()
    return int(row[0])


def begin_transition(
    tx: sqlite3.Connection, datastore_id: str, *, status: str, then: str, at: float, now: float
) -> None:
    """Move a data store to `status` now and on to `then` at time `at`."""
    tx.execute(
        "UPDATE datastores SET status = ?, next_status = ?, transition_at = ?, updated_at = ?"
        " WHERE datastore_id = ?",
        (status, then, at, now, datastore_id),
    )
