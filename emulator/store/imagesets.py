"""Image set rows: identity, versions (state, status, message, metadata document) and frames.

Search, update, copy and delete build on these functions; the import writes through
`insert_image_set`. The `image_sets` row carries the search index of the latest version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ahi.emulator.arns import ResourceArn
from ahi.emulator.dicom.summary import SEARCH_FIELDS, search_fields
from ahi.emulator.store import dicomweb_index
from ahi.emulator.store.documents import compress_document, decode_document

#: The state an image set is in once it is gone; it no longer counts towards its data store.
DELETED = "DELETED"
#: Versions are SQLite integers; a larger versionId names no version (and could not be bound).
SQLITE_MAX_INTEGER = 2**63
_SEARCH_COLUMNS = (*SEARCH_FIELDS, "number_of_study_related_series", "number_of_study_related_instances")

_VERSION_COLUMNS = (
    "s.image_set_id, s.datastore_id, s.account_id, s.region, s.latest_version, s.is_primary,"
    " s.created_at, v.version, v.state, v.workflow_status, v.message, v.updated_at, v.deleted_at,"
    " v.forced, v.metadata IS NOT NULL AS has_metadata"
)


@dataclass(frozen=True)
class ImageSetVersion:
    """One version of an image set as GetImageSet and ListImageSetVersions describe it."""

    image_set_id: str
    datastore_id: str
    account_id: str
    region: str
    latest_version: int
    is_primary: bool
    created_at: float
    version: int
    state: str
    workflow_status: str
    message: str | None
    updated_at: float
    deleted_at: float | None
    forced: bool | None
    has_metadata: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ImageSetVersion:
        values = {name: row[name] for name in row.keys()}
        values["is_primary"] = bool(values["is_primary"])
        values["has_metadata"] = bool(values["has_metadata"])
        values["forced"] = None if values["forced"] is None else bool(values["forced"])
        return cls(**values)


@dataclass(frozen=True)
class FrameRef:
    """Where a frame of an image set lives."""

    frame_id: str
    path: str
    size: int


def insert_image_set(
    tx: sqlite3.Connection,
    *,
    image_set_id: str,
    datastore_id: str,
    account_id: str,
    region: str,
    document: dict[str, Any],
    frames: Iterable[FrameRef],
    now: float,
    state: str = "ACTIVE",
    workflow_status: str = "CREATED",
    import_job_id: str | None = None,
    is_primary: bool = True,
) -> None:
    """A new image set at version 1, its document and its frames, inside the caller's transaction."""
    fields = search_fields(document)
    columns = ", ".join(_SEARCH_COLUMNS)
    marks = ", ".join(f":{name}" for name in _SEARCH_COLUMNS)
    tx.execute(
        "INSERT INTO image_sets (image_set_id, datastore_id, account_id, region, latest_version, is_primary,"
        f" import_job_id, created_at, updated_at, {columns}) VALUES (:image_set_id, :datastore_id, :account_id,"
        f" :region, 1, :is_primary, :import_job_id, :now, :now, {marks})",
        {
            "image_set_id": image_set_id,
            "datastore_id": datastore_id,
            "account_id": account_id,
            "region": region,
            "is_primary": int(is_primary),
            "import_job_id": import_job_id,
            "now": now,
            **fields,
        },
    )
    blob = compress_document(document)
    tx.execute(
        "INSERT INTO image_set_versions (image_set_id, version, state, workflow_status, created_at, updated_at,"
        " metadata, metadata_size) VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
        (image_set_id, state, workflow_status, now, now, blob, len(blob)),
    )
    tx.executemany(
        "INSERT INTO image_frames (image_set_id, frame_id, path, size) VALUES (?, ?, ?, ?)",
        [(image_set_id, frame.frame_id, frame.path, frame.size) for frame in frames],
    )
    if import_job_id is not None:
        record_job_image_set(tx, import_job_id, image_set_id, 1, is_primary)
    dicomweb_index.refresh(tx, image_set_id, document, 1)


def add_version(
    tx: sqlite3.Connection,
    current: ImageSetVersion,
    *,
    document: dict[str, Any],
    frames: Iterable[FrameRef],
    now: float,
    workflow_status: str,
    import_job_id: str | None,
) -> int:
    """An ACTIVE version after `current` with this document and these extra frames (an import adding
    instances to a primary image set, docs/primary-image-sets.md); returns its number."""
    version = current.version + 1
    blob = compress_document(document)
    tx.execute(
        "INSERT INTO image_set_versions (image_set_id, version, state, workflow_status, created_at, updated_at,"
        " metadata, metadata_size) VALUES (?, ?, 'ACTIVE', ?, ?, ?, ?, ?)",
        (current.image_set_id, version, workflow_status, now, now, blob, len(blob)),
    )
    fields = search_fields(document)
    assignments = ", ".join(f"{column} = :{column}" for column in fields)
    tx.execute(
        f"UPDATE image_sets SET {assignments}, latest_version = :version, updated_at = :now"
        " WHERE image_set_id = :image_set_id",
        {**fields, "version": version, "now": now, "image_set_id": current.image_set_id},
    )
    tx.executemany(
        "INSERT OR IGNORE INTO image_frames (image_set_id, frame_id, path, size) VALUES (?, ?, ?, ?)",
        [(current.image_set_id, frame.frame_id, frame.path, frame.size) for frame in frames],
    )
    if import_job_id is not None:
        record_job_image_set(tx, import_job_id, current.image_set_id, version, current.is_primary)
    dicomweb_index.refresh(tx, current.image_set_id, document, version)
    return version


def record_job_image_set(
    tx: sqlite3.Connection, job_id: str, image_set_id: str, version: int, is_primary: bool
) -> None:
    """Note that an import job wrote this version of an image set (its manifest lists the last one)."""
    tx.execute(
        "INSERT INTO import_job_image_sets (job_id, image_set_id, version, is_primary) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (job_id, image_set_id)"
        " DO UPDATE SET version = excluded.version, is_primary = excluded.is_primary",
        (job_id, image_set_id, version, int(is_primary)),
    )


def get_version(
    conn: sqlite3.Connection,
    account_id: str,
    region: str,
    datastore_id: str,
    image_set_id: str,
    version: int | None = None,
) -> ImageSetVersion | None:
    """A version of the caller's image set (the latest when `version` is None), or None."""
    if version is not None and not 0 < version < SQLITE_MAX_INTEGER:
        return None  # e.g. versionId 99999999999999999999999: no such version, and SQLite could not bind it
    row = conn.execute(
        f"SELECT {_VERSION_COLUMNS} FROM image_sets s JOIN image_set_versions v"
        " ON v.image_set_id = s.image_set_id AND v.version = COALESCE(:version, s.latest_version)"
        " WHERE s.image_set_id = :id AND s.datastore_id = :datastore AND s.account_id = :account"
        " AND s.region = :region",
        {"id": image_set_id, "datastore": datastore_id, "account": account_id, "region": region, "version": version},
    ).fetchone()
    return None if row is None else ImageSetVersion.from_row(row)


def image_set_known(
    conn: sqlite3.Connection, account_id: str, region: str, datastore_id: str, image_set_id: str
) -> bool:
    """Whether the caller has an image set with this id in this data store (any version, any state)."""
    row = conn.execute(
        "SELECT 1 FROM image_sets WHERE image_set_id = ? AND datastore_id = ? AND account_id = ? AND region = ?",
        (image_set_id, datastore_id, account_id, region),
    ).fetchone()
    return row is not None


def list_versions(
    conn: sqlite3.Connection, image_set_id: str, *, before_version: int | None, limit: int
) -> list[ImageSetVersion]:
    """Versions newest first, those below `before_version` when paging on."""
    rows = conn.execute(
        f"SELECT {_VERSION_COLUMNS} FROM image_sets s JOIN image_set_versions v ON v.image_set_id = s.image_set_id"
        " WHERE s.image_set_id = :id AND (:before IS NULL OR v.version < :before)"
        " ORDER BY v.version DESC LIMIT :limit",
        {"id": image_set_id, "before": before_version, "limit": limit},
    ).fetchall()
    return [ImageSetVersion.from_row(row) for row in rows]


def read_metadata(conn: sqlite3.Connection, image_set_id: str, version: int) -> bytes | None:
    """The gzip-compressed document of one version (None while that version is being written)."""
    row = conn.execute(
        "SELECT metadata FROM image_set_versions WHERE image_set_id = ? AND version = ?", (image_set_id, version)
    ).fetchone()
    return None if row is None or row[0] is None else bytes(row[0])


def load_document(conn: sqlite3.Connection, image_set_id: str, version: int) -> dict[str, Any] | None:
    """The metadata document of one version, decompressed and parsed."""
    blob = read_metadata(conn, image_set_id, version)
    return None if blob is None else decode_document(blob)


def find_frame(conn: sqlite3.Connection, image_set_id: str, frame_id: str) -> FrameRef | None:
    """Where one frame of an image set is stored."""
    row = conn.execute(
        "SELECT frame_id, path, size FROM image_frames WHERE image_set_id = ? AND frame_id = ?",
        (image_set_id, frame_id),
    ).fetchone()
    return None if row is None else FrameRef(row["frame_id"], row["path"], row["size"])


def count_live(conn: sqlite3.Connection, datastore_id: str) -> int:
    """Image sets of a data store whose latest version is not DELETED."""
    row = conn.execute(
        "SELECT COUNT(*) FROM image_sets s JOIN image_set_versions v"
        " ON v.image_set_id = s.image_set_id AND v.version = s.latest_version"
        " WHERE s.datastore_id = ? AND v.state != ?",
        (datastore_id, DELETED),
    ).fetchone()
    return int(row[0])


def exists_for_arn(conn: sqlite3.Connection, arn: ResourceArn) -> bool:
    """Whether an image set ARN names a live image set of that data store, account and region."""
    row = conn.execute(
        "SELECT 1 FROM image_sets s JOIN image_set_versions v"
        " ON v.image_set_id = s.image_set_id AND v.version = s.latest_version"
        " WHERE s.image_set_id = ? AND s.datastore_id = ? AND s.account_id = ? AND s.region = ? AND v.state != ?",
        (arn.image_set_id, arn.datastore_id, arn.account_id, arn.region, DELETED),
    ).fetchone()
    return row is not None


def image_sets_of_job(conn: sqlite3.Connection, job_id: str) -> list[tuple[str, int, bool]]:
    """(image set id, version, isPrimary) of every image set an import job wrote, in the order it wrote them."""
    rows = conn.execute(
        "SELECT image_set_id, version, is_primary FROM import_job_image_sets WHERE job_id = ? ORDER BY seq", (job_id,)
    ).fetchall()
    return [(row["image_set_id"], int(row["version"]), bool(row["is_primary"])) for row in rows]


def primary_image_sets_of_study(
    conn: sqlite3.Connection, datastore_id: str, study_instance_uid: str
) -> list[tuple[str, int, str]]:
    """(image set id, latest version, state) of a study's primary image sets that are not DELETED, oldest first."""
    rows = conn.execute(
        "SELECT s.image_set_id, s.latest_version, v.state FROM image_sets s JOIN image_set_versions v"
        " ON v.image_set_id = s.image_set_id AND v.version = s.latest_version"
        " WHERE s.datastore_id = ? AND s.study_instance_uid = ? AND s.is_primary = 1 AND v.state != ?"
        " ORDER BY s.seq",
        (datastore_id, study_instance_uid, DELETED),
    ).fetchall()
    return [(row[0], int(row[1]), row[2]) for row in rows]


def latest_version(conn: sqlite3.Connection, image_set_id: str) -> ImageSetVersion | None:
    """The latest version of an image set, whoever owns it (callers have already scoped the id)."""
    row = conn.execute(
        f"SELECT {_VERSION_COLUMNS} FROM image_sets s JOIN image_set_versions v"
        " ON v.image_set_id = s.image_set_id AND v.version = s.latest_version WHERE s.image_set_id = ?",
        (image_set_id,),
    ).fetchone()
    return None if row is None else ImageSetVersion.from_row(row)


def primary_study_image_sets(
    conn: sqlite3.Connection, datastore_id: str, study_instance_uid: str | None, exclude: str
) -> list[str]:
    """The other non-deleted primary image sets of one study in a data store, oldest first."""
    if study_instance_uid is None:
        return []
    rows = conn.execute(
        "SELECT s.image_set_id FROM image_sets s JOIN image_set_versions v"
        " ON v.image_set_id = s.image_set_id AND v.version = s.latest_version"
        " WHERE s.datastore_id = ? AND s.study_instance_uid = ? AND s.is_primary = 1 AND v.state != ?"
        " AND s.image_set_id != ? ORDER BY s.seq",
        (datastore_id, study_instance_uid, DELETED, exclude),
    ).fetchall()
    return [row[0] for row in rows]


def set_primary(tx: sqlite3.Connection, image_set_id: str, is_primary: bool) -> None:
    """Mark an image set primary or not (CopyImageSet's promoteToPrimary, docs/primary-image-sets.md)."""
    tx.execute("UPDATE image_sets SET is_primary = ? WHERE image_set_id = ?", (int(is_primary), image_set_id))
    dicomweb_index.refresh(tx, image_set_id)
