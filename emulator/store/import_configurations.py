"""The importConfiguration of each import job that had one (docs/import-configuration.md)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any


def save_configuration(tx: sqlite3.Connection, job_id: str, configuration: dict[str, Any]) -> None:
    """Keep a new job's configuration, as the request gave it."""
    tx.execute(
        "INSERT INTO import_job_configurations (job_id, configuration) VALUES (?, ?)",
        (job_id, json.dumps(configuration, separators=(",", ":"))),
    )


def get_configuration(conn: sqlite3.Connection, job_id: str) -> dict[str, Any] | None:
    """A job's configuration, or None when its request had none."""
    row = conn.execute(
        "SELECT configuration FROM import_job_configurations WHERE job_id = ?", (job_id,)
    ).fetchone()
    return None if row is None else dict(json.loads(row["configuration"]))
