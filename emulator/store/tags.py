"""Tag rows, keyed by resource ARN."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping


def get_tags(conn: sqlite3.Connection, resource_arn: str) -> dict[str, str]:
    """Every tag of a resource."""
    rows = conn.execute(
        "SELECT tag_key, tag_value FROM tags WHERE resource_arn = ? ORDER BY tag_key",
        (resource_arn,),
    ).fetchall()
    return {row["tag_key"]: row["tag_value"] for row in rows}


def put_tags(tx: sqlite3.Connection, resource_arn: str, tags: Mapping[str, str]) -> None:
    """Add tags, overwriting the values of keys already present."""
    tx.executemany(
        "INSERT INTO tags (resource_arn, tag_key, tag_value) VALUES (?, ?, ?)"
        " ON CONFLICT (resource_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
        [(resource_arn, key, value) for key, value in tags.items()],
    )


def remove_tags(tx: sqlite3.Connection, resource_arn: str, keys: Iterable[str]) -> None:
    """Remove tags by key; keys the resource does not carry are ignored."""
    tx.executemany(
        "DELETE FROM tags WHERE resource_arn = ? AND tag_key = ?",
        [(resource_arn, key) for key in keys],
    )
