"""Console start-up and table memory, measured (goals: table on screen < 1.5 s; 10,000 rows < 200 MB RSS).

1. Launch to data store table, real process in a real terminal (tmux): `ahi --local` on a state
   directory holding data stores, timed until the header is painted (the endpoint starts behind it)
   and until the rows are on screen. Alternative measured in the same run: the AWS CLI listing the
   same data stores (`aws medical-imaging list-datastores`).
   First launch: `ahi --local` on a new state directory (a newcomer's `make run`), timed until the
   demo's data stores are on screen, then again on the same directory once the demo's imports have
   finished (goal < 2 s both). Each launch starts once the previous one's processes have ended: an
   endpoint still finishing its imports would slow the next launch down.
2. The same inside one process (headless Pilot), without interpreter start-up.
3. Resident memory of the console with 10,000 data store rows in its table, against a bare Textual
   DataTable holding the same 10,000 rows.

Usage: .venv/bin/python bench/startup.py [--stores N] [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import boto3
from botocore.config import Config

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.services.local_endpoint import SEED_PENDING_FILE

BIN = Path(sys.executable).parent


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_state(state_dir: Path, stores: int) -> None:
    with LocalEndpoint(EndpointConfig(state_dir=state_dir, datastore_transition_seconds=0)) as endpoint:
        client = boto3.client(
            "medical-imaging", endpoint_url=endpoint.url, region_name="us-east-1",
            aws_access_key_id="bench", aws_secret_access_key="bench", config=Config(inject_host_prefix=False),
        )
        for index in range(stores):
            client.create_datastore(datastoreName=f"bench-store-{index:02d}", clientToken=f"bench-{index}")


def processes_using(state_dir: Path) -> list[int]:
    """Process ids whose command line names `state_dir` (the console and its endpoint), read from /proc."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(state_dir).encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
    return found


def wait_until_gone(state_dir: Path, seconds: float = 60) -> None:
    """Wait for the console and endpoint of a launch on `state_dir` to exit (a stopping endpoint finishes its writes)."""
    deadline = time.monotonic() + seconds
    while processes_using(state_dir) and time.monotonic() < deadline:
        time.sleep(0.05)


@contextmanager
def ahi_in_tmux(state_dir: Path) -> Iterator[tuple[float, Callable[[], str]]]:
    """`ahi --local` in a detached tmux session of its own: (when it was launched, a function reading the screen).

    The session ends with the console and endpoint processes: the next launch does not share the CPU with them.
    """
    socket = f"ahi-bench-{uuid.uuid4().hex[:8]}"
    home = Path(tempfile.mkdtemp())
    tmux = ["tmux", "-L", socket]
    command = (f"env HOME={home} AHI_CONFIG={home}/none.toml AWS_CONFIG_FILE={home}/none "
               f"{BIN / 'ahi'} --local --state-dir {state_dir}")
    start = time.perf_counter()
    subprocess.run([*tmux, "-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", "160", "-y", "50", command], check=True)
    try:
        yield start, lambda: subprocess.run([*tmux, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True).stdout
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        wait_until_gone(state_dir)


def launch_in_tmux(state_dir: Path, stores: int) -> tuple[float, float]:
    """Seconds from starting `ahi --local` in a terminal to the header painted, and to every row on screen."""
    painted: float | None = None
    last = f"bench-store-{stores - 1:02d}"
    with ahi_in_tmux(state_dir) as (start, read_screen):
        while time.perf_counter() - start < 60:
            screen = read_screen()
            if painted is None and "profile" in screen and "region" in screen:
                painted = time.perf_counter() - start
            if last in screen and f"{stores}/{stores} rows" in screen:
                return painted if painted is not None else time.perf_counter() - start, time.perf_counter() - start
            time.sleep(0.01)
        raise RuntimeError("the table never appeared")


def demo_launch_in_tmux(state_dir: Path, seeding: bool) -> float:
    """Seconds from starting `ahi --local` in a terminal to the demo's data stores on screen (seeded on a new state directory).

    A seeding launch then waits for the demo's imports to finish: the next launch opens a settled
    world, as a person's second launch does, not one whose imports resume.
    """
    with ahi_in_tmux(state_dir) as (start, read_screen):
        while time.perf_counter() - start < 120:
            screen = read_screen()
            if all(name in screen for name in ("demo-imaging", "demo-aws-owned-key", "demo-disabled-key")):
                seconds = time.perf_counter() - start
                while seeding and "imports finished" not in read_screen() and time.perf_counter() - start < 300:
                    time.sleep(0.05)
                if (state_dir / SEED_PENDING_FILE).exists():
                    raise RuntimeError("the demo seed did not finish")
                return seconds
            time.sleep(0.01)
        raise RuntimeError("the demo data stores never appeared")


def aws_cli_listing(state_dir: Path) -> float:
    with LocalEndpoint(EndpointConfig(state_dir=state_dir)) as endpoint:
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint.url}
        start = time.perf_counter()
        subprocess.run([str(BIN / "aws"), "medical-imaging", "list-datastores"], env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def in_process(state_dir: Path, stores: int) -> float:
    """`ahi --local` inside this process: the endpoint starts behind the first paint, as in a terminal."""
    from ahi.tui.app import AhiApp
    from ahi.tui.config import ConsoleConfig
    from ahi.tui.launch import LOCAL_PENDING_URL
    from ahi.services.local_endpoint import LocalEndpointRun
    from ahi.tui.settings import build_parser, resolve
    from ahi.tui.widgets.resource_table import ResourceTable

    start = time.perf_counter()
    local = LocalEndpointRun(state_dir)
    options = resolve(build_parser().parse_args(["--local"]), ConsoleConfig(), {}, LOCAL_PENDING_URL)
    app = AhiApp(options, local_endpoint=local)

    async def run() -> float:
        async with app.run_test(size=(160, 50)) as pilot:
            while True:
                tables = list(app.screen.query(ResourceTable))
                if tables and tables[0].row_count == stores:
                    await pilot.pause()
                    return time.perf_counter() - start
                await pilot.pause(0.005)

    try:
        return asyncio.run(run())
    finally:
        local.stop()


def table_memory(rows: int) -> tuple[float, float, float]:
    """(baseline RSS, console table RSS, bare DataTable RSS) in MB for `rows` data stores."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from ahi.screens.datastores import DatastoreListing, DatastoresScreen
    from ahi.services.datastores import Datastore
    from ahi.tui.app import AhiApp
    from ahi.tui.config import ConsoleConfig
    from ahi.tui.settings import build_parser, resolve

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    stores = [
        Datastore(id=f"{i:032x}", name=f"store-{i:05d}", status="ACTIVE", arn=f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{i:032x}",
                  created_at=now, updated_at=now, storage_format="HTJ2K", detailed=True, raw={"datastoreId": f"{i:032x}"})
        for i in range(rows)
    ]
    baseline = rss_mb()

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    async def bare() -> float:
        async with Bare().run_test(size=(160, 50)) as pilot:
            table = pilot.app.query_one(DataTable)
            table.add_columns("name", "id", "status", "format", "kms", "created", "updated")
            table.add_rows([(s.name, s.id, s.status, "HTJ2K", "AWS owned", str(s.created_at), str(s.updated_at)) for s in stores])
            await pilot.pause(0.2)
            return rss_mb()

    bare_rss = asyncio.run(bare())

    async def console() -> float:
        options = resolve(build_parser().parse_args(["--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1", "--refresh", "0"]),
                          ConsoleConfig(), {}, None)
        app = AhiApp(options)
        async with app.run_test(size=(160, 50)) as pilot:
            await app.workers.wait_for_complete()
            screen = app.screen
            assert isinstance(screen, DatastoresScreen)
            screen.show(DatastoreListing(stores, {}))
            await pilot.pause(0.2)
            return rss_mb()

    console_rss = asyncio.run(console())
    return baseline, console_rss, bare_rss


def figures(seconds: list[float]) -> str:
    """Median and best of a list of timings: a shared machine moves single runs by tens of percent."""
    return f"{statistics.median(seconds):6.2f} s median, {min(seconds):.2f} s best"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=8)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("tmux"):
        first, later = [], []
        for _ in range(args.runs):
            fresh = Path(tempfile.mkdtemp()) / "state"
            first.append(demo_launch_in_tmux(fresh, seeding=True))
            later.append(demo_launch_in_tmux(fresh, seeding=False))
        print(f"first launch to demo data stores (new state): {figures(first)}   (goal < 2 s)")
        print(f"later launch to demo data stores:             {figures(later)}")
        print("  every first launch: " + ", ".join(f"{t:.2f}" for t in first))
        print("  every later launch: " + ", ".join(f"{t:.2f}" for t in later))
    state = Path(tempfile.mkdtemp()) / "state"
    make_state(state, args.stores)
    print(f"data stores on the endpoint: {args.stores}; runs: {args.runs}, console and CLI interleaved (median, best)")
    if shutil.which("tmux"):
        launches, cli = [], []
        for _ in range(args.runs):
            launches.append(launch_in_tmux(state, args.stores))
            cli.append(aws_cli_listing(state))
        painted, launch = [p for p, _ in launches], [t for _, t in launches]
        print(f"launch to header, real terminal:  {figures(painted)}")
        print(f"launch to table, real terminal:   {figures(launch)}   (goal < 1.5 s)")
        print(f"aws medical-imaging list-datastores: {figures(cli)}   "
              f"ratio console/CLI = {statistics.median(launch) / statistics.median(cli):.2f} (medians)")
        print("  every launch to table: " + ", ".join(f"{t:.2f}" for t in launch))
    inside = [in_process(state, args.stores) for _ in range(args.runs)]
    print(f"launch to table, in process:       {figures(inside)}")
    baseline, console_rss, bare_rss = table_memory(args.rows)
    print(f"RSS before any app:                {baseline:6.1f} MB")
    print(f"RSS, console with {args.rows} rows:      {console_rss:6.1f} MB   (goal < 200 MB)")
    print(f"RSS, bare DataTable {args.rows} rows:    {bare_rss:6.1f} MB   ratio console/bare = {console_rss / bare_rss:.2f}")


if __name__ == "__main__":
    main()
