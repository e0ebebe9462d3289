"""`ahi local --demo`: seed the demo world once the endpoint is up (skipped when it is already there).

`--demo-in-background` is the console's (`ahi --local` on a new state directory): the endpoint serves
at once, the console creates the demo's keys and data stores, and this process makes and imports the
studies behind them, printing a `# demo: ...` line per step (demo/progress.py, docs/startup.md).
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TYPE_CHECKING, TextIO

from ahi.emulator.demo import progress

if TYPE_CHECKING:
    from ahi.emulator.server import LocalEndpoint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The --demo and --demo-in-background flags."""
    parser.add_argument(
        "--demo",
        action="store_true",
        help="seed demo data (synthetic CT/MR/US studies, pydicom's samples, three imports, keys and tags)",
    )
    parser.add_argument(
        "--demo-in-background",
        action="store_true",
        help="once a client has created the demo's keys and data stores (ahi --local does), make and import the "
        f"demo studies, printing a '# demo: ...' line per step ({progress.PENDING_FILE} in the state directory "
        "until the imports are started)",
    )


def wants_moto_soon(args: argparse.Namespace) -> bool:
    """The demo's first calls are KMS CreateKey: moto may start loading before anyone asks."""
    return bool(getattr(args, "demo_in_background", False))


def on_started(args: argparse.Namespace, endpoint: LocalEndpoint) -> None:
    """Seed before the environment lines are printed, so the data is there when they appear."""
    if getattr(args, "demo_in_background", False):
        pending = endpoint.config.state_dir / progress.PENDING_FILE
        if _demo_ids(endpoint):
            pending.unlink(missing_ok=True)  # a seed cut short after its data stores: the world is there, as a client sees it
        else:
            pending.touch(mode=0o600)
    if not getattr(args, "demo", False):
        return
    from ahi.emulator.demo.seed import seed_demo

    print("# seeding demo data ...", file=sys.stderr, flush=True)
    seeded = seed_demo(endpoint.url)
    print("# demo data seeded." if seeded else "# demo data already present.", file=sys.stderr, flush=True)


def on_announced(args: argparse.Namespace, endpoint: LocalEndpoint, out: TextIO, stopped: threading.Event) -> None:
    """Once the URL is printed: the background part of the seed, when asked for (`present` when the world is there)."""
    if not getattr(args, "demo_in_background", False):
        return
    pending = endpoint.config.state_dir / progress.PENDING_FILE
    if not pending.exists():
        progress.report(out, "present")
        return
    threading.Thread(target=progress.seed_when_created, args=(endpoint.url, lambda: _demo_ids(endpoint), pending, out, stopped),
                     name="ahi-demo-seed", daemon=True).start()  # fmt: skip


def _demo_ids(endpoint: LocalEndpoint) -> dict[str, str]:
    """The demo data stores in the endpoint's state (name -> id), read directly: no client needed to wait for them."""
    from ahi.emulator.demo import world

    assert endpoint.runtime is not None, "the endpoint is not running"
    with endpoint.runtime.store.read() as conn:
        return {store.name: store.datastore_id for store in world.demo_datastores(conn)}
