"""In a real terminal (tmux), a person opens an image set in `ahi --local`, exports it with `E` to a folder
they type, waits for the summary, and the `.dcm` files written are read by pydicom; `w` then puts the
study's DICOMweb URL on the clipboard (OSC 52, into tmux's buffer)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
from image_set_world import PATIENT_B
from test_image_set_journey import state_dir  # noqa: F401 - the same endpoint state with the imported world
from tmux_harness import Tmux

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


def test_export_an_image_set_and_read_the_files(tmux: Tmux, state_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "exported"
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    tmux.wait_for(lambda s: "imaging-archive" in s and "ACTIVE" in s, "the data store row")

    tmux.command(f"sets {PATIENT_B.patient_id}")
    tmux.wait_for(lambda s: "Doe, Jane" in s and "1 loaded" in s, "the search result")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "reachable by its UIDs (primary)" in s, "the image set detail with its DICOMweb line")

    tmux.keys("E")
    tmux.wait_for(lambda s: "Export the 2 instances of image set" in s, "the folder dialog")
    tmux.keys("C-u")
    tmux.keys("-l", str(folder))
    tmux.keys("Enter")
    screen = tmux.wait_for(lambda s: "2 of 2 instances written" in s, "the export summary")
    assert "failed" not in screen

    files = sorted(folder.glob("*.dcm"))
    assert len(files) == 2
    datasets = [pydicom.dcmread(path) for path in files]
    assert {str(d.PatientID) for d in datasets} == {PATIENT_B.patient_id}
    assert {f"{d.SOPInstanceUID}.dcm" for d in datasets} == {path.name for path in files}
    assert all(d.pixel_array.shape == (32, 32) for d in datasets)

    tmux.keys("w")
    tmux.wait_for(lambda s: "DICOMweb study URL copied" in s, "the copy notification")
    url = tmux.run("show-buffer").strip()
    assert url.startswith("http://127.0.0.1:") and url.endswith(f"/studies/{datasets[0].StudyInstanceUID}")
