"""In a real terminal (tmux), a person opens an image set in `ahi --local`, exports it with `E` to a folder
they type, waits for the summary, and the `.dcm` files written are read by pydicom."""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pydicom
import pytest
from botocore.config import Config
from image_set_world import PATIENT_B, import_world
from tmux_harness import Tmux

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """An endpoint state holding imported image sets (made beforehand, so no demo world is seeded)."""
    state = tmp_path / "state"
    with LocalEndpoint(EndpointConfig(state_dir=state, datastore_transition_seconds=0)) as endpoint:
        options = {
            "region_name": "us-east-1", "endpoint_url": endpoint.url,
            "aws_access_key_id": "e2e", "aws_secret_access_key": "e2e", "config": Config(inject_host_prefix=False),
        }  # fmt: skip
        import_world(boto3.client("medical-imaging", **options), boto3.client("s3", **options))
    return state


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
