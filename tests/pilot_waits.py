"""Pilot's idle check on a shorter window: each key press and pause ends 5 ms after the app goes quiet, not 20 ms.

Pilot waits for the app after every key (twice) and on every pause by sleeping in windows until one passes
with the process nearly idle (under 5% of the window spent on CPU). Textual's window is 20 ms, so the
quietest key costs at least 40 ms of sleeping, which made up about half of a console test's time. The
check is the same (the same 5% share of a window), only sampled more often; docs/testing.md#pilot-waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

#: Seconds of one idle-check window (Textual's own is 1/50).
WINDOW = 0.005


@contextmanager
def short_idle_windows() -> Iterator[None]:
    """While inside, Pilot's idle checks sleep in WINDOW-long windows and allow the same share of CPU."""
    from textual import _wait

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_wait, "SLEEP_GRANULARITY", WINDOW)
        patch.setattr(_wait, "SLEEP_IDLE", WINDOW * _wait.SLEEP_IDLE / _wait.SLEEP_GRANULARITY)
        yield
