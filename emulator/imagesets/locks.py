"""The background side of asynchronous image set writes: unlock each version when its time is up.

Writes record in the store when they settle (`image_set_locks.settle_at`), so nothing here has to be
remembered across a restart: `start` settles whatever came due while the endpoint was down (or
killed), then one thread sleeps until the next lock is due. A lock whose settlement cannot be applied
ends as a failed write with a message instead of staying LOCKED.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Callable

from ahi.emulator.events.details import settled_event
from ahi.emulator.events.publisher import publish
from ahi.emulator.imagesets.messages import version_message
from ahi.emulator.store import versions
from ahi.emulator.store.db import Store, StoreError
from ahi.emulator.store.frame_files import FrameFiles

log = logging.getLogger("ahi.emulator.imagesets")

#: Longest sleep between looks at the store (a safety net; schedule() wakes the thread earlier).
IDLE_SECONDS = 5.0
#: Pause after an unexpected error before trying again.
RETRY_SECONDS = 0.2


class ImageSetLocks:
    """Settles the locks of one endpoint's store in a daemon thread."""

    def __init__(self, store: Store, frames: FrameFiles, now: Callable[[], float]) -> None:
        self._store, self._frames, self._now = store, frames, now
        self._wake = threading.Condition()
        self._next: float | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ahi-imageset-locks", daemon=True)

    def start(self) -> None:
        """Settle everything already due (a previous run's writes), then keep settling in the background."""
        self.settle_due()
        self._thread.start()

    def scheduled(self, settle_at: float) -> None:
        """A write committed a lock that settles at `settle_at` (call after the commit)."""
        with self._wake:
            if self._next is None or settle_at < self._next:
                self._next = settle_at
            self._wake.notify()

    def settle_due(self) -> int:
        """Settle every lock whose time is up; returns how many were settled."""
        with self._store.read() as conn:
            due = versions.due_locks(conn, self._now())
        settled = 0
        for lock in due:
            released = self._settle_one(lock)
            if released is not None:
                settled += 1
                self._unlink(released)
        return settled

    def _settle_one(self, lock: sqlite3.Row) -> list[str] | None:
        key = (lock["image_set_id"], lock["version"])
        try:
            with self._store.transaction() as tx:
                if not versions.still_locked(tx, *key):
                    return None
                event = settled_event(tx, lock, lock["state"], lock["workflow_status"])
                released = versions.settle(tx, lock)
            if event is not None:
                publish(event)
            return released
        except StoreError:
            raise
        except Exception as error:  # noqa: BLE001 - a broken settlement must not keep the image set LOCKED
            log.error("settling image set %s version %s failed: %s", key[0], key[1], type(error).__name__)
            reason = version_message(f"INTERNAL_ERROR: the write could not complete ({type(error).__name__})")
            with self._store.transaction() as tx:
                if not versions.still_locked(tx, *key):
                    return None
                return versions.settle_as_failed(tx, lock, reason)

    def _unlink(self, paths: list[str]) -> None:
        for path in paths:
            (self._frames.root / path).unlink(missing_ok=True)

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                timeout = IDLE_SECONDS if self._next is None else max(0.0, self._next - self._now())
                if timeout > 0:
                    self._wake.wait(min(timeout, IDLE_SECONDS))
                if self._stopping:
                    return
                self._next = None
            try:
                self.settle_due()
                with self._store.read() as conn:
                    upcoming = versions.next_due(conn)
            except StoreError:
                return
            except Exception:  # noqa: BLE001 - keep the thread alive; the next pass retries
                log.exception("image set lock pass failed")
                upcoming = self._now() + RETRY_SECONDS
            if upcoming is not None:
                self.scheduled(upcoming)

    def stop(self) -> None:
        """Stop the thread (locks still pending settle at the next start)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(IDLE_SECONDS)

