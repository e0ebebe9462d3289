"""In a real terminal (tmux): a world written by an attacker, opened screen by screen, reaches the terminal only
as visible text. Every byte ahi writes is captured (pipe-pane) and read as a terminal would read it: no control
sequence carries a marker from the data, the pane title and tmux's paste buffers are untouched, and clicking a
value written as `[@click=app.quit]` runs nothing (docs/foreign-text.md).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hostile_world import CLICK_MARK, CLIP_MARK, MARK, TITLE_MARK, HostileWorld, seed
from journey_clients import journey_clients
from tmux_harness import Tmux

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

#: What a terminal takes as a control sequence (ECMA-48): CSI, OSC (to BEL or ST), DCS/SOS/PM/APC (to ST),
#: other two-byte escapes, and the 8-bit C1 controls.
CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
    r"|[\x80-\x9f]"
)


def seed_on(endpoint_url: str) -> HostileWorld:
    """The hostile world on the console's own endpoint (its S3 lives in that process)."""
    return seed(*journey_clients(endpoint_url, "medical-imaging", "s3", "kms"))


def click_on(tmux: Tmux, screen: str, text: str) -> None:
    """Click the middle of the first place `text` is shown."""
    row = next(index for index, line in enumerate(screen.splitlines()) if text in line)
    tmux.click(screen.splitlines()[row].index(text) + len(text) // 2, row)


def control_sequences(raw: str) -> list[str]:
    return [match.group(0) for match in CONTROL.finditer(raw)]


def test_hostile_world_reaches_the_terminal_only_as_visible_text(tmux: Tmux, state_dir: Path, tmp_path: Path) -> None:
    raw_file = tmp_path / "pane.raw"
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0", raw_output=raw_file)
    title_before = tmux.pane("pane_title")
    made = seed_on(tmux.endpoint_url())
    tmux.keys("r")
    screen = tmux.wait_for(lambda s: made.datastore_name in s and "ACTIVE" in s, "the data store row")

    for _ in range(2):  # clicks do reach the console: the first puts the cursor on the cell, the second opens the row
        click_on(tmux, screen, made.datastore_name)
    screen = tmux.wait_for(lambda s: CLICK_MARK in s and "Tags (4)" in s, "the data store's hostile tags")
    click_on(tmux, screen, CLICK_MARK)
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Tags (4)" not in s and made.datastore_name in s, "the data store list (the click quit nothing)")
    tmux.keys("t")
    screen = tmux.wait_for(lambda s: "Tags: hostile-archive" in s and CLICK_MARK in s, "the tags panel")
    click_on(tmux, screen, CLICK_MARK)  # the cursor moves to the `click` row, and nothing runs
    tmux.keys("Up", "e")  # the `clear` tag, every payload at once, in the tag form's input
    tmux.wait_for(lambda s: "Edit tag on hostile-archive" in s and f"{MARK}BIDItag-clear" in s, "the hostile value in the tag form")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Edit tag on" not in s and "Tags: hostile-archive" in s, "the tags panel again")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Tags: hostile-archive" not in s, "the data store list again")

    tmux.command("kms")
    tmux.wait_for(lambda s: "KMS keys" in s and made.datastore_name in s, "the KMS screen")

    tmux.command("jobs")
    tmux.wait_for(lambda s: made.job_name in s, "the import job")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "Failures (6 in" in s, "the hostile failure reasons")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "bad-0" in s, "a failure reason opened to its files")

    tmux.command(f"sets {made.patient_id}")
    tmux.wait_for(lambda s: "1 loaded" in s and f"{MARK}TITLE" in s, "the search result with hostile DICOM values")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "Properties" in s and "Versions" in s, "the image set detail")
    tmux.keys("m")
    tmux.wait_for(lambda s: "Patient" in s and f"{MARK}" in s, "the metadata tree")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Properties" in s and "Versions" in s, "back on the image set detail")
    tmux.keys("v")
    tmux.wait_for(lambda s: "frame 1/2" in s, "the frame preview")

    tmux.command("q")
    assert tmux.wait_for_exit() == 0

    raw = raw_file.read_bytes().decode("utf-8", errors="replace")
    carrying = [sequence for sequence in control_sequences(raw) if MARK in sequence]
    assert not carrying, f"data reached the terminal as control sequences: {carrying[:5]!r}"
    assert not re.search(r"[\x80-\x9f]", raw), "an 8-bit C1 control reached the terminal"
    assert f"{TITLE_MARK}" in raw and CLICK_MARK in raw, "the hostile values were not drawn at all"
    assert tmux.pane("pane_title") == title_before
    buffers = tmux.run("list-buffers", "-F", "#{buffer_sample}")
    assert CLIP_MARK not in buffers and MARK not in buffers
