"""What the endpoint acknowledged while it was being killed: the ledger the durability invariants check.

A write counts as acknowledged only when its 2xx response arrived. A write in flight when the process
died may or may not have happened; the ledger keeps it as "pending", and the checks accept either.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

#: Marks "the key was untagged" in a tag history.
ABSENT = None


@dataclass
class TagHistory:
    """One tag key: the last acknowledged value and the unacknowledged writes after it."""

    acknowledged: str | None = ABSENT
    pending: list[str | None] = field(default_factory=list)

    def allowed(self) -> set[str | None]:
        return {self.acknowledged, *self.pending}


@dataclass(frozen=True)
class AckedUpdate:
    image_set_id: str
    version: int
    marker: str


@dataclass
class Ledger:
    """Thread-safe record of acknowledged writes across every life of the endpoint."""

    jobs: list[str] = field(default_factory=list)
    tags: dict[str, TagHistory] = field(default_factory=dict)
    updates: list[AckedUpdate] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    #: Deletes sent, answered or not (a copy may be DELETED only if it is here).
    delete_attempts: list[str] = field(default_factory=list)
    #: Image sets whose metadata the workload may update and copy (from manifests read while alive).
    originals: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tag_sent(self, key: str, value: str | None) -> None:
        with self._lock:
            self.tags.setdefault(key, TagHistory()).pending.append(value)

    def tag_acknowledged(self, key: str, value: str | None) -> None:
        with self._lock:
            history = self.tags[key]
            history.acknowledged = value
            history.pending.clear()

    def add(self, kind: str, item: object) -> None:
        with self._lock:
            getattr(self, kind).append(item)

    def snapshot(self, kind: str) -> list:  # type: ignore[type-arg]
        with self._lock:
            return list(getattr(self, kind))
