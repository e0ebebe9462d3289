"""In a real terminal (tmux): `:fleet` over two regions of the console's own endpoint, a row opened, `:export` to CSV.

The console runs its own in-process endpoint; the test reads its URL off the header and runs a
failing import job in each of two regions there through boto3 (the signing region partitions the endpoint's data).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from fleet_world import EAST, WEST, build_fleet
from tmux_harness import Tmux

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


def test_fleet_table_row_and_export(tmux: Tmux, state_dir: Path, tmp_path: Path) -> None:
    exported = tmp_path / "fleet.csv"
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    world = build_fleet(tmux.endpoint_url())

    tmux.command(f"fleet {EAST},{WEST}")
    screen = tmux.wait_for(lambda s: "2/2 regions" in s and "east-missing" in s and "west-empty" in s, "both regions' failed jobs")
    assert "east-clean" not in screen, "a clean import is not listed"
    assert EAST in screen and WEST in screen

    tmux.keys("Down")
    tmux.keys("Enter")
    screen = tmux.wait_for(lambda s: f"west-empty · {WEST}" in s and world.jobs["west-empty"] in s, "the job opened in its region")
    assert "FAILED" in screen and "fleet-empty" in screen, "its properties came from the job's own region"

    tmux.keys("Escape")
    tmux.wait_for(lambda s: "2/2 regions" in s, "back on the fleet table")
    tmux.command(f"export {exported}")
    tmux.wait_for(lambda s: "Table exported" in s, "the export notification")
    rows = list(csv.DictReader(exported.open(encoding="utf-8", newline="")))
    assert [(row["region"], row["job"]) for row in rows] == [(EAST, "east-missing"), (WEST, "west-empty")]
    assert rows[1]["id"] == world.jobs["west-empty"] and rows[1]["status"] == "FAILED"
