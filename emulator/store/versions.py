"""Image set versions in the store: lock one for an asynchronous write, and settle it when time is up.

A write (update, copy, delete) commits, in one transaction, the version rows it LOCKs plus one
`image_set_locks` row per locked version saying what that version becomes at `settle_at`. Settling
applies such a row and deletes it in one transaction, so a lock never outlives a restart.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ahi.emulator.dicom.summary import search_fields
from ahi.emulator.store import dicomweb_index
from ahi.emulator.store.documents import compress_document, decode_document
from ahi.emulator.store.imagesets import DELETED, ImageSetVersion, insert_image_set

LOCKED = "LOCKED"
ACTIVE = "ACTIVE"

#: `image_set_locks.operation`: what holds a lock (the per-data-store concurrency quotas count them).
UPDATE = "UpdateImageSetMetadata"
COPY = "CopyImageSet"
COPY_SOURCE = "CopyImageSetSource"
DELETE = "DeleteImageSet"

#: The status a locked version ends in when settling it fails unexpectedly (never left LOCKED).
FAILED_STATUS = {"UPDATING": "UPDATE_FAILED", "COPYING": "COPY_FAILED"}


@dataclass(frozen=True)
class Settlement:
    """What a locked version becomes once its write completes."""

    state: str
    workflow_status: str
    message: str | None = None
    #: The version's document from then on; None keeps the one it has.
    document: dict[str, Any] | None = None
    #: The version's updatedAt from then on; None means the settle time.
    updated_at: float | None = None
    #: Whether the image set's search columns and updated_at follow this version.
    reindex: bool = False


def lock_new_version(
    tx: sqlite3.Connection,
    current: ImageSetVersion,
    *,
    operation: str,
    status: str,
    now: float,
    settle_at: float,
    settlement: Settlement,
    forced: bool | None = None,
) -> int:
    """Add version `current.version + 1`, LOCKED in `status` until it settles; returns its number."""
    version = current.version + 1
    tx.execute(
        "INSERT INTO image_set_versions (image_set_id, version, state, workflow_status, created_at, updated_at,"
        " forced) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (current.image_set_id, version, LOCKED, status, now, now, None if forced is None else int(forced)),
    )
    tx.execute(
        "UPDATE image_sets SET latest_version = ?, updated_at = ? WHERE image_set_id = ?",
        (version, now, current.image_set_id),
    )
    _add_lock(tx, current.image_set_id, version, current.datastore_id, operation, settle_at, settlement)
    return version


def lock_current_version(
    tx: sqlite3.Connection,
    current: ImageSetVersion,
    *,
    operation: str,
    status: str,
    now: float,
    settle_at: float,
    settlement: Settlement,
) -> None:
    """LOCK the latest version itself in `status` (a copy's source, a delete) until it settles."""
    tx.execute(
        "UPDATE image_set_versions SET state = ?, workflow_status = ?, updated_at = ? WHERE image_set_id = ? AND version = ?",
        (LOCKED, status, now, current.image_set_id, current.version),
    )
    _add_lock(tx, current.image_set_id, current.version, current.datastore_id, operation, settle_at, settlement)


def insert_locked_image_set(
    tx: sqlite3.Connection,
    *,
    image_set_id: str,
    datastore_id: str,
    account_id: str,
    region: str,
    status: str,
    document: dict[str, Any],
    now: float,
    settle_at: float,
    is_primary: bool,
    forced: bool | None,
    settlement: Settlement,
) -> None:
    """A new image set at version 1, LOCKED in `status` with no readable document until it settles."""
    insert_image_set(
        tx,
        image_set_id=image_set_id,
        datastore_id=datastore_id,
        account_id=account_id,
        region=region,
        document=document,
        frames=(),
        now=now,
        state=LOCKED,
        workflow_status=status,
        is_primary=is_primary,
    )
    tx.execute(
        "UPDATE image_set_versions SET metadata = NULL, metadata_size = NULL, forced = ?"
        " WHERE image_set_id = ? AND version = 1",
        (None if forced is None else int(forced), image_set_id),
    )
    dicomweb_index.refresh(tx, image_set_id)  # no readable document yet: not searchable until it settles
    _add_lock(tx, image_set_id, 1, datastore_id, COPY, settle_at, settlement)


def _add_lock(
    tx: sqlite3.Connection,
    image_set_id: str,
    version: int,
    datastore_id: str,
    operation: str,
    settle_at: float,
    settlement: Settlement,
) -> None:
    blob = None if settlement.document is None else compress_document(settlement.document)
    tx.execute(
        "INSERT INTO image_set_locks (image_set_id, version, datastore_id, operation, settle_at, state,"
        " workflow_status, message, updated_at, metadata, reindex) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            image_set_id,
            version,
            datastore_id,
            operation,
            settle_at,
            settlement.state,
            settlement.workflow_status,
            settlement.message,
            settlement.updated_at,
            blob,
            int(settlement.reindex),
        ),
    )


def count_locks(conn: sqlite3.Connection, datastore_id: str, operation: str) -> int:
    """How many writes of one kind hold a lock in a data store (its concurrency quota)."""
    row = conn.execute(
        "SELECT COUNT(*) FROM image_set_locks WHERE datastore_id = ? AND operation = ?", (datastore_id, operation)
    ).fetchone()
    return int(row[0])


def copy_frame_rows(tx: sqlite3.Connection, source_id: str, destination_id: str, frame_ids: Iterable[str]) -> None:
    """Let the destination serve these frames of the source (the frame files are shared, not copied)."""
    tx.execute(
        "INSERT OR IGNORE INTO image_frames (image_set_id, frame_id, path, size)"
        " SELECT ?, frame_id, path, size FROM image_frames"
        " WHERE image_set_id = ? AND frame_id IN (SELECT value FROM json_each(?))",
        (destination_id, source_id, json.dumps(list(frame_ids))),
    )


def due_locks(conn: sqlite3.Connection, now: float) -> list[sqlite3.Row]:
    """Locks whose time is up, oldest first."""
    return conn.execute(
        "SELECT * FROM image_set_locks WHERE settle_at <= ? ORDER BY settle_at, image_set_id, version", (now,)
    ).fetchall()


def next_due(conn: sqlite3.Connection) -> float | None:
    """When the earliest lock is up (None when no write is in flight)."""
    row = conn.execute("SELECT MIN(settle_at) FROM image_set_locks").fetchone()
    return None if row[0] is None else float(row[0])


def settle(tx: sqlite3.Connection, lock: sqlite3.Row) -> list[str]:
    """Apply one due lock and drop it; returns frame file paths no image set references any more."""
    image_set_id, version = lock["image_set_id"], lock["version"]
    at = float(lock["settle_at"])
    released: list[str] = []
    if lock["state"] == DELETED:
        released = _delete(tx, image_set_id, version, at)
    else:
        updated_at = at if lock["updated_at"] is None else float(lock["updated_at"])
        blob = lock["metadata"]
        tx.execute(
            "UPDATE image_set_versions SET state = ?, workflow_status = ?, message = ?, updated_at = ?,"
            " metadata = COALESCE(?, metadata), metadata_size = COALESCE(?, metadata_size)"
            " WHERE image_set_id = ? AND version = ?",
            (
                lock["state"],
                lock["workflow_status"],
                lock["message"],
                updated_at,
                blob,
                None if blob is None else len(blob),
                image_set_id,
                version,
            ),
        )
        if lock["reindex"]:
            _reindex(tx, image_set_id, version, updated_at)
    tx.execute("DELETE FROM image_set_locks WHERE image_set_id = ? AND version = ?", (image_set_id, version))
    dicomweb_index.refresh(tx, image_set_id)
    return released


def settle_as_failed(tx: sqlite3.Connection, lock: sqlite3.Row, reason: str) -> list[str]:
    """Settle a lock whose own settlement could not be applied: the write fails and the image set unlocks."""
    image_set_id, version = lock["image_set_id"], lock["version"]
    if lock["state"] == DELETED:
        return settle(tx, lock)
    locked = tx.execute(
        "SELECT workflow_status, metadata IS NULL FROM image_set_versions WHERE image_set_id = ? AND version = ?",
        (image_set_id, version),
    ).fetchone()
    status = lock["workflow_status"] if locked is None else FAILED_STATUS.get(locked[0], lock["workflow_status"])
    if locked is not None and locked[1] and version > 1:
        _inherit_previous_document(tx, image_set_id, version)
    tx.execute(
        "UPDATE image_set_versions SET state = ?, workflow_status = ?, message = ?, updated_at = ?"
        " WHERE image_set_id = ? AND version = ?",
        (ACTIVE, status, reason, float(lock["settle_at"]), image_set_id, version),
    )
    tx.execute("DELETE FROM image_set_locks WHERE image_set_id = ? AND version = ?", (image_set_id, version))
    dicomweb_index.refresh(tx, image_set_id)
    return []


def _inherit_previous_document(tx: sqlite3.Connection, image_set_id: str, version: int) -> None:
    """A failed new version keeps the document of the version before it (a failed copy's new image set has none)."""
    tx.execute(
        "UPDATE image_set_versions SET (metadata, metadata_size) = (SELECT metadata, metadata_size"
        " FROM image_set_versions WHERE image_set_id = ? AND version = ?) WHERE image_set_id = ? AND version = ?",
        (image_set_id, version - 1, image_set_id, version),
    )


def _reindex(tx: sqlite3.Connection, image_set_id: str, version: int, updated_at: float) -> None:
    """Rewrite the image set's search columns from this (now latest) version's document."""
    row = tx.execute(
        "SELECT metadata FROM image_set_versions WHERE image_set_id = ? AND version = ?", (image_set_id, version)
    ).fetchone()
    if row is None or row[0] is None:
        return
    fields = search_fields(decode_document(bytes(row[0])))
    assignments = ", ".join(f"{column} = :{column}" for column in fields)
    tx.execute(
        f"UPDATE image_sets SET {assignments}, updated_at = :updated_at"
        " WHERE image_set_id = :image_set_id AND latest_version = :version",
        {**fields, "updated_at": updated_at, "image_set_id": image_set_id, "version": version},
    )


def _delete(tx: sqlite3.Connection, image_set_id: str, version: int, at: float) -> list[str]:
    """Every version DELETED (documents dropped), the latest one with status DELETED; frames released."""
    tx.execute(
        "UPDATE image_set_versions SET state = ?, deleted_at = ?, metadata = NULL, metadata_size = NULL"
        " WHERE image_set_id = ?",
        (DELETED, at, image_set_id),
    )
    tx.execute(
        "UPDATE image_set_versions SET workflow_status = ?, message = NULL, updated_at = ?"
        " WHERE image_set_id = ? AND version = ?",
        (DELETED, at, image_set_id, version),
    )
    tx.execute("UPDATE image_sets SET deleted_at = ? WHERE image_set_id = ?", (at, image_set_id))
    paths = {row[0] for row in tx.execute("SELECT path FROM image_frames WHERE image_set_id = ?", (image_set_id,))}
    tx.execute("DELETE FROM image_frames WHERE image_set_id = ?", (image_set_id,))
    return sorted(
        path
        for path in paths
        if tx.execute("SELECT 1 FROM image_frames WHERE path = ? LIMIT 1", (path,)).fetchone() is None
    )


def still_locked(conn: sqlite3.Connection, image_set_id: str, version: int) -> bool:
    """Whether this version still holds its lock (another pass may have settled it meanwhile)."""
    row = conn.execute(
        "SELECT 1 FROM image_set_locks WHERE image_set_id = ? AND version = ?", (image_set_id, version)
    ).fetchone()
    return row is not None
