"""Stored times (REAL epoch seconds) as the datetimes handlers return."""

from __future__ import annotations

import datetime as dt


def to_datetime(seconds: float | None) -> dt.datetime | None:
    """UTC datetime of stored epoch seconds; None stays None."""
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
