"""The console's clock; tests freeze it so "refreshed 12 s ago" and timestamps are stable."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall time and a monotonic time; a frozen clock returns the same instant until advanced."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._frozen = frozen_at
        self._offset = 0.0

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        if self._frozen is not None:
            return self._offset
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        """Move a frozen clock forward."""
        self._offset += seconds
        if self._frozen is not None:
            self._frozen = self._frozen + timedelta(seconds=seconds)
