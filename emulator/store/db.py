"""The endpoint's SQLite store: WAL mode, numbered migrations, pooled readers and one serialized writer."""

from __future__ import annotations

import os
import queue
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

MIGRATIONS_PACKAGE = "ahi.emulator.store.migrations"
MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
BUSY_TIMEOUT_MS = 10_000


class StoreError(RuntimeError):
    """The state file cannot be used (newer schema, bad migration, closed store)."""


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every bundled migration, in version order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"two migrations share a version number: {versions}")
    return found


class Store:
    """One SQLite file shared by every request thread.

    Writers take `transaction()` (a lock plus BEGIN IMMEDIATE, so writes are serialized and atomic);
    readers take `read()` (a pooled connection inside one deferred transaction, a consistent snapshot
    that WAL lets run beside the writer).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(self.path, 0o600)
        self._closed = False
        self._write_lock = threading.Lock()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._migrate()
        for suffix in ("-wal", "-shm"):
            sidecar = self.path.with_name(self.path.name + suffix)
            if sidecar.exists():
                os.chmod(sidecar, 0o600)

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("the store is closed")
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        with self._all_lock:
            self._all.append(conn)
        return conn

    @property
    def schema_version(self) -> int:
        """The highest migration applied to this file."""
        with self.read() as conn:
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def _migrate(self) -> None:
        """Apply every bundled migration the file lacks, each in its own transaction."""
        conn = self._writer
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        known = migration_files()
        newest_known = known[-1][0] if known else 0
        with self._write_lock:
            for version, name, sql in known:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    applied = conn.execute(
                        "SELECT 1 FROM schema_version WHERE version = ?", (version,)
                    ).fetchone()
                    if applied is None:
                        _run_script(conn, sql)
                        conn.execute(
                            "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                            (version, name, time.time()),
                        )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            newest = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
        if newest > newest_known:
            raise StoreError(
                f"{self.path} has schema version {newest}, newer than this ahi knows ({newest_known})"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An atomic write transaction: commits on success, rolls back on any exception."""
        with self._write_lock:
            conn = self._writer
            if self._closed:
                raise StoreError("the store is closed")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read-only snapshot on a pooled connection (never blocks on the writer)."""
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = self._connect()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            if self._closed:
                conn.close()
            else:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._readers.put(conn)

    def secret(self, name: str, size: int = 32) -> bytes:
        """A random secret kept in the state file (e.g. the key that signs pagination tokens)."""
        with self.read() as conn:
            row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return bytes(row["value"])
        with self.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
                (name, secrets.token_bytes(size)),
            )
            row = tx.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return bytes(row["value"])

    def close(self) -> None:
        """Close every connection; later use raises StoreError."""
        with self._write_lock:
            self._closed = True
            with self._all_lock:
                conns, self._all = self._all, []
            for conn in conns:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass


def _run_script(conn: sqlite3.Connection, sql: str) -> None:
    """Run a migration's statements one by one inside the caller's transaction.

    `executescript` would commit the open transaction first, so statements are split with
    `sqlite3.complete_statement` instead.
    """
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if statement:
                conn.execute(statement)
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        raise StoreError(f"unterminated statement in migration: {pending.strip()[:80]}")
