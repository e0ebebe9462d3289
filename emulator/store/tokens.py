"""clientToken idempotency shared by every creating operation."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from typing import Any


def fingerprint(request: Mapping[str, Any]) -> str:
    """A stable digest of a request's members (the clientToken itself left out by the caller)."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_token(
    tx: sqlite3.Connection, account_id: str, region: str, operation: str, token: str
) -> tuple[str, str] | None:
    """(fingerprint, resource_id) recorded for a clientToken, or None if it is new."""
    row = tx.execute(
        "SELECT fingerprint, resource_id FROM client_tokens"
        " WHERE account_id = ? AND region = ? AND operation = ? AND token = ?",
        (account_id, region, operation, token),
    ).fetchone()
    return None if row is None else (row["fingerprint"], row["resource_id"])


def record_token(
    tx: sqlite3.Connection,
    account_id: str,
    region: str,
    operation: str,
    token: str,
    request_fingerprint: str,
    resource_id: str,
    now: float,
) -> None:
    """Remember which resource a clientToken created, and from which request."""
    tx.execute(
        "INSERT INTO client_tokens (account_id, region, operation, token, fingerprint, resource_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (account_id, region, operation, token, request_fingerprint, resource_id, now),
    )
