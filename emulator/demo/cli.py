"""`ahi local --demo`: seed the demo world once the endpoint is up (skipped when it is already there).

`--demo-in-background` is the console's (`ahi --local` on a new state directory): the endpoint serves
at once and seeds behind it, printing one `# demo: ...` line per step (demo/progress.py), so the
console lists the demo's data stores as soon as they exist and the studies are made in this process,
never on the console's core.
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
        help="seed the demo data after the endpoint serves, printing a '# demo: ...' line per step "
        f"(a seed cut short leaves {progress.PENDING_FILE} in the state directory)",
    )


def wants_moto_soon(args: argparse.Namespace) -> bool:
    """A background seed creates KMS keys first thing: moto may start loading before anyone asks."""
    return bool(getattr(args, "demo_in_background", False))


def on_started(args: argparse.Namespace, endpoint: LocalEndpoint) -> None:
    """Seed before the environment lines are printed, so the data is there when they appear."""
    if getattr(args, "demo_in_background", False):
        (endpoint.config.state_dir / progress.PENDING_FILE).touch(mode=0o600)
    if not getattr(args, "demo", False):
        return
    from ahi.emulator.demo.seed import seed_demo

    print("# seeding demo data ...", file=sys.stderr, flush=True)
    seeded = seed_demo(endpoint.url)
    print("# demo data seeded." if seeded else "# demo data already present.", file=sys.stderr, flush=True)


def on_announced(args: argparse.Namespace, endpoint: LocalEndpoint, out: TextIO) -> None:
    """Once the URL is printed: the background seed, when asked for."""
    if getattr(args, "demo_in_background", False):
        pending = endpoint.config.state_dir / progress.PENDING_FILE
        threading.Thread(target=progress.seed_reporting, args=(endpoint.url, pending, out), name="ahi-demo-seed",
                         daemon=True).start()  # fmt: skip
