"""`ahi --local`: the in-process endpoint, started off the UI thread, seeded in the background, stopped on exit.

The console paints first and connects when the endpoint is up; the demo seed creates its data
stores and starts its imports without waiting for them, so the jobs screen shows them running and
quitting never waits for the seed. A seed cut short by quitting is done again on the next start.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.demo.seed import DemoJobs
    from emulator.server import LocalEndpoint

STATE_FILE = "state.sqlite3"
#: Present while the demo seed has not yet created everything (the next start seeds again).
SEED_PENDING_FILE = "demo-seed.pending"


class LocalEndpointRun:
    """One in-process endpoint on a state directory; every method but `stop` blocks (run them in workers)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        #: A new state directory, or one whose seed was cut short, gets the demo world.
        self.seed_wanted = not (state_dir / STATE_FILE).exists() or (state_dir / SEED_PENDING_FILE).exists()
        self.url: str | None = None
        self._endpoint: LocalEndpoint | None = None
        self._stopped = False
        self._lock = threading.Lock()

    def start(self) -> str:
        """Open the state and serve on a free loopback port; returns the endpoint URL."""
        from emulator.config import EndpointConfig
        from emulator.server import LocalEndpoint

        endpoint = LocalEndpoint(EndpointConfig(state_dir=self.state_dir)).start()
        with self._lock:
            if not self._stopped:
                self._endpoint, self.url = endpoint, endpoint.url
                if self.seed_wanted:
                    (self.state_dir / SEED_PENDING_FILE).touch(mode=0o600)
                return endpoint.url
        endpoint.stop()
        raise RuntimeError("the console quit while the local endpoint was starting")

    def start_demo(self) -> DemoJobs | None:
        """Create the demo world and start its imports (None when it was already there)."""
        from emulator.demo.seed import start_demo

        assert self.url is not None, "start the endpoint first"
        jobs = start_demo(self.url)
        (self.state_dir / SEED_PENDING_FILE).unlink(missing_ok=True)
        return jobs

    def settle_demo(self, jobs: DemoJobs) -> None:
        """Wait for the demo imports and add their finishing touches."""
        from emulator.demo.seed import settle_demo

        assert self.url is not None, "start the endpoint first"
        settle_demo(self.url, jobs)

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Stop serving and close the state; safe to call twice, and while `start` still runs."""
        with self._lock:
            self._stopped = True
            endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            endpoint.stop()


class LocalEndpointUnavailable(RuntimeError):
    """The in-process endpoint is not there (it failed to start, or took too long)."""
