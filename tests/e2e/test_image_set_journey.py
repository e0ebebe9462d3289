"""In a real terminal (tmux) with COLORTERM unset, as over plain SSH: `:sets PATIENT` finds the image set,
`v` previews it, and capture-pane shows the half-cell image drawn in 256 colours."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from image_set_world import PATIENT_B, import_world
from tmux_harness import Tmux

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

SGR = re.compile(r"\x1b\[([0-9;]*)m")
HALF_CELL = "▄"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """An endpoint state holding imported image sets (made beforehand, so no demo world is seeded)."""
    state = tmp_path / "state"
    with LocalEndpoint(EndpointConfig(state_dir=state, datastore_transition_seconds=0)) as endpoint:
        options = {
            "region_name": "us-east-1", "endpoint_url": endpoint.url,
            "aws_access_key_id": "e2e", "aws_secret_access_key": "e2e", "config": Config(inject_host_prefix=False),
        }
        import_world(boto3.client("medical-imaging", **options), boto3.client("s3", **options))
    return state


def colours_of_half_cells(raw_line: str) -> tuple[set[str], set[str], int]:
    """(foreground codes, background codes, half-cells) of one captured line with its escapes."""
    foregrounds: set[str] = set()
    backgrounds: set[str] = set()
    cells = 0
    position = 0
    for match in SGR.finditer(raw_line + "\x1b[m"):
        text = raw_line[position : match.start()]
        cells += text.count(HALF_CELL)
        params = match.group(1)
        for colour in re.findall(r"(?:^|;)(38;5;\d+|38;2;\d+;\d+;\d+)", params):
            foregrounds.add(colour)
        for colour in re.findall(r"(?:^|;)(48;5;\d+|48;2;\d+;\d+;\d+)", params):
            backgrounds.add(colour)
        position = match.end()
    return foregrounds, backgrounds, cells


def test_search_then_preview_draws_half_cells_in_256_colours(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    tmux.wait_for(lambda s: "imaging-archive" in s and "ACTIVE" in s, "the data store row")

    tmux.command(f"sets {PATIENT_B.patient_id}")
    screen = tmux.wait_for(lambda s: "Doe, Jane" in s and "1 loaded" in s, "the search result")
    assert "DICOMPatientId = AHI-DEMO-002" in screen and "Data stores › Image sets" in screen

    tmux.keys("v")
    tmux.wait_for(
        lambda s: "CRC-32 ok" in s and "Instance 1" in s and "Doe^Jane (AHI-DEMO-002)" in s and "frame 1/2" in s,
        "the preview with a verified frame, its patient overlay and its position in the status line",
    )

    raw = tmux.styled_screen().splitlines()
    drawn = [colours_of_half_cells(line) for line in raw if HALF_CELL in line]
    assert len(drawn) >= 20, "the image is not drawn over the preview's rows"
    foregrounds = set().union(*(fg for fg, _, _ in drawn))
    backgrounds = set().union(*(bg for _, bg, _ in drawn))
    assert sum(cells for _, _, cells in drawn) > 500
    assert all(code.startswith("38;5;") for code in foregrounds), "truecolor leaked into a 256-colour terminal"
    assert all(code.startswith("48;5;") for code in backgrounds)
    assert len(foregrounds | {c.replace("48;", "38;") for c in backgrounds}) >= 4, "the image has no grey levels"

    tmux.keys("right")
    tmux.wait_for(lambda s: "frame 2/2" in s and "Instance 2" in s, "the next frame")
