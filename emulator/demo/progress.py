"""The demo seed's part behind a serving endpoint, its steps reported as `# demo: <step> [detail]` lines (docs/startup.md).

`ahi --local` on a new state directory splits the seed between its two processes. The console,
which has boto3 loaded by then, creates the demo's keys and data stores through the API; this
process waits for them to appear in its state, then makes the studies, uploads them and starts the
imports (seconds of CPU the console's core never sees). The console reads these lines from the
endpoint's standard output, after the URL line:

- `imports DATASTORE_ID/JOB_ID ...`: studies uploaded, imports started;
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
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

#: Present while the demo seed has not yet created everything (the next start seeds again).
PENDING_FILE = "demo-seed.pending"
PREFIX = "# demo: "
LINE = re.compile(r"^# demo: (?P<step>[a-z]+)(?: (?P<detail>.*))?$")
#: Seconds between two looks for the demo's data stores in the endpoint's state.
POLL_S = 0.05

log = logging.getLogger("ahi.emulator.demo")
_write_lock = threading.Lock()


def report(out: TextIO, step: str, detail: str = "") -> None:
    """One progress line, flushed at once (the reader waits for it)."""
    with _write_lock:
        print(f"{PREFIX}{step} {detail}".rstrip(), file=out, flush=True)


def seed_when_created(
    endpoint_url: str, demo_datastores: Callable[[], dict[str, str]], pending: Path, out: TextIO, stopped: threading.Event
) -> None:
    """Once every demo data store exists (name -> id, read from this endpoint's state), make and import the studies; never raises."""
    from ahi.emulator.demo import world
    from ahi.emulator.demo.seed import settle_demo, start_demo_imports

    names = {store.name for store in world.DATASTORES}
    try:
        datastore_ids = demo_datastores()
        while not names <= set(datastore_ids):
            if stopped.wait(POLL_S):
                return
            datastore_ids = demo_datastores()
        started = time.monotonic()
        jobs = start_demo_imports(endpoint_url, {name: datastore_ids[name] for name in names})
        pending.unlink(missing_ok=True)
        log.info("demo studies made and imports started in %.1f s", time.monotonic() - started)
        report(out, "imports", " ".join(f"{datastore_id}/{job_id}" for datastore_id, job_id in jobs))
        settle_demo(endpoint_url, jobs)
        report(out, "settled")
    except Exception as exc:  # noqa: BLE001 - reported to the console; the endpoint goes on serving
        if stopped.is_set():
            return
        log.exception("demo seed failed")
        try:
            report(out, "failed", " ".join(str(exc).split()) or type(exc).__name__)
        except (OSError, ValueError):
            pass  # the reader is gone (the console quit)
