"""`ahi --local`: the local endpoint as a child process, seeded in the background, stopped on exit.

A child process rather than a thread: it starts on the other core while the console imports and
paints, and its import jobs (HTJ2K encoding, a CPU-bound pipeline) never hold the console's GIL.
It is `ahi local` itself, reached over HTTP like any endpoint; it stops when the console stops it,
and when its standard input closes, so a console killed outright does not leave it behind.

The demo seed is shared (`--demo-in-background`, docs/startup.md): the console creates the demo's
keys and data stores (it has boto3 loaded while the endpoint is still loading moto), and the
endpoint process makes and uploads the studies and starts the imports, reporting each step on its
standard output. The console lists the data stores as soon as they exist, the jobs screen shows the
imports running, and quitting never waits for the seed. A seed cut short by quitting is done again
on the next start.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, Callable

from ahi.emulator.demo import progress

if TYPE_CHECKING:
    from ahi.emulator.demo.seed import DemoJobs

STATE_FILE = "state.sqlite3"
#: Present while the demo seed has not yet created everything (the next start seeds again).
SEED_PENDING_FILE = progress.PENDING_FILE
#: The endpoint's own log, beside its state.
LOG_FILE = "endpoint.log"
#: Seconds a stopping endpoint gets to finish its writes before it is killed.
STOP_WAIT_S = 35.0
_URL_LINE = re.compile(r"^# ahi local endpoint on (?P<url>http://\S+) ")


class LocalEndpointRun:
    """One endpoint process on a state directory; `start` blocks until it serves (run it in a worker)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        #: A new state directory, or one whose seed was cut short, gets the demo world.
        self.seed_wanted = not (state_dir / STATE_FILE).exists() or (state_dir / SEED_PENDING_FILE).exists()
        self.url: str | None = None
        self._process: subprocess.Popen[str] | None = None
        #: Why the process could not be started (shown by `start`, in the console, not as a traceback).
        self._spawn_error: str | None = None
        self._stopped = False
        self._lock = threading.Lock()

    def spawn(self) -> None:
        """Start the endpoint process now (cheap); `start` waits for it to serve."""
        with self._lock:
            if self._process is not None or self._stopped or self._spawn_error is not None:
                return
            try:
                self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                log = os.open(self.state_dir / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            except OSError as exc:
                self._spawn_error = f"cannot use the state directory {self.state_dir}: {exc.strerror or exc}"
                return
            try:
                demo = ["--demo-in-background"] if self.seed_wanted else []
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "ahi.tui.cli", "local", "--state-dir", str(self.state_dir), "--stop-when-stdin-closes", *demo],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
                )
            except OSError as exc:
                self._spawn_error = f"cannot start the endpoint process: {exc.strerror or exc}"
            finally:
                os.close(log)

    def start(self) -> str:
        """Wait until the endpoint serves on a free loopback port; returns its URL."""
        self.spawn()
        with self._lock:
            process = self._process
        if self._spawn_error is not None:
            raise RuntimeError(self._spawn_error)
        if process is None:
            raise RuntimeError("the console quit while the local endpoint was starting")
        url = self._read_url(process.stdout)
        with self._lock:
            if self._stopped:
                raise RuntimeError("the console quit while the local endpoint was starting")
            self.url = url
        return url

    def _read_url(self, stdout: IO[str] | None) -> str:
        for line in stdout or ():
            match = _URL_LINE.match(line)
            if match:
                return match["url"]
        if self._stopped:
            raise RuntimeError("the console quit while the local endpoint was starting")
        raise RuntimeError(f"the endpoint process ended before serving; see {self.state_dir / LOG_FILE}: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            lines = (self.state_dir / LOG_FILE).read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def start_demo(self, on_datastores: Callable[[], None] | None = None, loader: Any = None) -> DemoJobs | None:
        """Create the demo's keys and data stores from here, then follow the endpoint process until it has started the imports.

        `on_datastores` is called once the data stores exist; `loader` is a botocore loader whose models
        the demo's clients reuse. None when the demo world was already there.
        """
        from ahi.emulator.demo.seed import create_demo_datastores

        assert self.url is not None, "start the endpoint first"
        if create_demo_datastores(self.url, loader) is not None and on_datastores is not None:
            on_datastores()
        for step, detail in self._demo_steps():
            if step == "present":
                return None
            if step == "imports":
                return [(datastore_id, job_id) for datastore_id, _, job_id in (pair.partition("/") for pair in detail.split())]
        raise self._seed_ended_early()

    def settle_demo(self, jobs: DemoJobs) -> None:
        """Wait until the endpoint says the demo imports ended and their finishing touches are on."""
        for step, _detail in self._demo_steps():
            if step == "settled":
                return
        raise self._seed_ended_early()

    def _demo_steps(self) -> Iterator[tuple[str, str]]:
        """The seed's `# demo:` lines the endpoint prints after its URL; a `failed` one raises."""
        assert self.url is not None, "start the endpoint first"
        with self._lock:
            process = self._process
        for line in (process.stdout if process is not None and process.stdout is not None else ()):
            match = progress.LINE.match(line.rstrip("\n"))
            if match is None:
                continue
            if match["step"] == "failed":
                raise RuntimeError(match["detail"] or "the demo seed failed")
            yield match["step"], match["detail"] or ""

    def _seed_ended_early(self) -> RuntimeError:
        if self._stopped:
            return RuntimeError("the console quit while the demo was being seeded")
        return RuntimeError(f"the endpoint process ended during the demo seed; see {self.state_dir / LOG_FILE}: {self._log_tail()}")

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Stop the endpoint and wait for it to close its state; safe to call twice, and while `start` runs."""
        with self._lock:
            self._stopped = True
            process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the endpoint stops when its stdin closes
        try:
            process.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class LocalEndpointUnavailable(RuntimeError):
    """The local endpoint is not there (it failed to start, or took too long)."""
