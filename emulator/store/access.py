"""When each image set was last touched, and the offset of the clock tiering reads (docs/storage-tiers.md).

Times here are on the tiering clock: the real time plus `endpoint_clock.offset_seconds`. Callers pass
the real time (`Runtime.now()`); the offset is read in the same transaction, so a touch and the tier
computed from it always agree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


def clock_offset(conn: sqlite3.Connection) -> float:
    """Seconds the tiering clock runs ahead of the real one."""
    row = conn.execute("SELECT offset_seconds FROM endpoint_clock WHERE id = 1").fetchone()
    return 0.0 if row is None else float(row["offset_seconds"])


def set_clock_offset(tx: sqlite3.Connection, seconds: float) -> None:
    """Set the tiering clock's offset."""
    tx.execute(
        "INSERT INTO endpoint_clock (id, offset_seconds) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET offset_seconds = excluded.offset_seconds",
        (seconds,),
    )


def touch(tx: sqlite3.Connection, image_set_ids: Iterable[str], real_now: float) -> None:
    """Record a touch of each image set at `real_now` on the tiering clock (never moving a touch back)."""
    at = round((real_now + clock_offset(tx)) * 1000) / 1000  # whole milliseconds, like every stored time
    tx.executemany(
        "INSERT INTO image_set_access (image_set_id, last_accessed_at) VALUES (?, ?)"
        " ON CONFLICT (image_set_id) DO UPDATE SET last_accessed_at = MAX(last_accessed_at, excluded.last_accessed_at)",
        [(image_set_id, at) for image_set_id in image_set_ids],
    )


def last_accessed(conn: sqlite3.Connection, image_set_ids: Iterable[str]) -> dict[str, float]:
    """Last touch of each image set that has one, on the tiering clock."""
    ids = list(dict.fromkeys(image_set_ids))
    found: dict[str, float] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT image_set_id, last_accessed_at FROM image_set_access WHERE image_set_id IN ({marks})", chunk
        ):
            found[row["image_set_id"]] = float(row["last_accessed_at"])
    return found


def study_of(conn: sqlite3.Connection, image_set_id: str) -> tuple[str, str | None] | None:
    """(data store id, Study Instance UID) of an image set's latest version, from its search row."""
    row = conn.execute(
        "SELECT datastore_id, study_instance_uid FROM image_sets WHERE image_set_id = ?", (image_set_id,)
    ).fetchone()
    return None if row is None else (row["datastore_id"], row["study_instance_uid"])
