"""The demo seed run behind a serving endpoint, its steps reported as `# demo: <step> [detail]` lines (docs/startup.md).

The console (`ahi --local`) reads these lines from the endpoint's standard output, after the URL line:

- `datastores`: the demo's keys and data stores exist (the console lists them now);
- `imports DATASTORE_ID/JOB_ID ...`: studies made and uploaded, imports started;
- `settled`: every import ended and the finishing touches are on;
- `present`: the state already held the demo world, nothing was done;
- `failed MESSAGE`: the seed stopped (the endpoint's log has the traceback).

The pending file exists from before the URL is printed until the imports are started: a seed cut
short (the console quit, the process was killed) is done again on the next start.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import TextIO

#: Present while the demo seed has not yet created everything (the next start seeds again).
PENDING_FILE = "demo-seed.pending"
PREFIX = "# demo: "
LINE = re.compile(r"^# demo: (?P<step>[a-z]+)(?: (?P<detail>.*))?$")

log = logging.getLogger("ahi.emulator.demo")
_write_lock = threading.Lock()


def report(out: TextIO, step: str, detail: str = "") -> None:
    """One progress line, flushed at once (the reader waits for it)."""
    with _write_lock:
        print(f"{PREFIX}{step} {detail}".rstrip(), file=out, flush=True)


def seed_reporting(endpoint_url: str, pending: Path, out: TextIO) -> None:
    """Seed the demo world at `endpoint_url`, reporting each step on `out`; never raises."""
    from ahi.emulator.demo.seed import settle_demo, start_demo

    try:
        jobs = start_demo(endpoint_url, lambda: report(out, "datastores"))
        pending.unlink(missing_ok=True)
        if jobs is None:
            report(out, "present")
            return
        report(out, "imports", " ".join(f"{datastore_id}/{job_id}" for datastore_id, job_id in jobs))
        settle_demo(endpoint_url, jobs)
        report(out, "settled")
    except Exception as exc:  # noqa: BLE001 - reported to the console; the endpoint goes on serving
        log.exception("demo seed failed")
        try:
            report(out, "failed", " ".join(str(exc).split()) or type(exc).__name__)
        except (OSError, ValueError):
            pass  # the reader is gone (the console quit)
