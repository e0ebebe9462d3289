"""`ahi local --demo`: seed the demo world once the endpoint is up (skipped when it is already there)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ahi.emulator.server import LocalEndpoint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The --demo flag."""
    parser.add_argument(
        "--demo",
        action="store_true",
        help="seed demo data (synthetic CT/MR/US studies, pydicom's samples, three imports, keys and tags)",
    )


def on_started(args: argparse.Namespace, endpoint: LocalEndpoint) -> None:
    """Seed before the environment lines are printed, so the data is there when they appear."""
    if not getattr(args, "demo", False):
        return
    from ahi.emulator.demo.seed import seed_demo

    print("# seeding demo data ...", file=sys.stderr, flush=True)
    seeded = seed_demo(endpoint.url)
    print("# demo data seeded." if seeded else "# demo data already present.", file=sys.stderr, flush=True)
