"""End the process once its terminal is gone, even when Textual's shutdown cannot finish.

Seen in tmux (about one hangup in three): Textual's output thread dies writing to the vanished
terminal with its queue full, and the shutdown then waits forever to queue the codes that restore
the terminal. A console that outlives its terminal keeps the local endpoint's port and state busy,
so after a grace period the watchdog runs the launcher's cleanup itself and ends the process.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable

log = logging.getLogger("tui")

#: Seconds the normal shutdown gets before the watchdog ends the process.
GRACE_S = 3.0


class ExitWatchdog:
    """Armed when the terminal goes away; disarmed when the app's run returns to the launcher."""

    def __init__(self, cleanup: Callable[[], None], grace_s: float = GRACE_S) -> None:
        self._cleanup = cleanup
        self._grace_s = grace_s
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def arm(self) -> None:
        """Start the countdown (once)."""
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(self._grace_s, self._fire)
                self._timer.daemon = True
                self._timer.start()

    def disarm(self) -> None:
        """The shutdown finished on its own: the launcher cleans up."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()

    def _fire(self) -> None:
        log.warning("the console's shutdown hung after its terminal went away; ending the process")
        try:
            self._cleanup()
        finally:
            os._exit(0)
