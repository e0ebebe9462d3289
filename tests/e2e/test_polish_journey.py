"""In a real terminal (tmux), at 80x24 and 120x40: the import form's help, the frame viewer, `ahi local`'s
printed lines against the README, and the first launch on a new state directory.

Each journey types what a person types and reads capture-pane, polling and never sleeping blind.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from journey_clients import journey_clients
from tmux_harness import AHI, Tmux

from ahi.emulator.config import EndpointConfig
from ahi.emulator.demo.phantoms import Subject, ct_series
from ahi.emulator.server import LocalEndpoint

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
ROLE = "arn:aws:iam::123456789012:role/JourneyImportRole"
README = Path(__file__).resolve().parents[2] / "README.md"
PATIENT = Subject(patient_id="AHI-VIEW-001", patient_name="Viewer^Head", study_key="viewer")
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def clients(endpoint_url: str) -> tuple[Any, Any]:
    mi, s3 = journey_clients(endpoint_url, "medical-imaging", "s3")
    return mi, s3


def until(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen"
        time.sleep(0.1)


def accept_completion(tmux: Tmux, uri: str) -> None:
    """Right takes the suggestion shown after the cursor; wait until `uri` is drawn in one style (typed, not suggested)."""
    tmux.keys("Right")
    deadline = time.monotonic() + 30
    while uri not in tmux.styled_screen():
        assert time.monotonic() < deadline, f"{uri} was not taken; screen:\n{tmux.screen()}"
        time.sleep(0.1)


def open_console(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")


# --- the import form ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_import_form_picks_the_store_completes_s3_uris_and_remembers_the_role(tmp_path: Path, state_dir: Path, size: tuple[int, int]) -> None:
    tmux = Tmux(tmp_path, size=size)
    try:
        open_console(tmux, state_dir)
        mi, s3 = clients(tmux.endpoint_url())
        for bucket in ("journey-in", "journey-out"):
            s3.create_bucket(Bucket=bucket)
        for folder in ("night/", "night2/", "day/"):
            s3.put_object(Bucket="journey-in", Key=f"{folder}a.dcm", Body=b"not read by the form")
        store = mi.create_datastore(datastoreName="journey-store", clientToken="journey")["datastoreId"]
        until(lambda: mi.get_datastore(datastoreId=store)["datastoreProperties"]["datastoreStatus"] == "ACTIVE", "ACTIVE")

        tmux.command("jobs")
        tmux.wait_for(lambda s: "Import jobs" in s, "the jobs screen")
        tmux.keys("n")
        tmux.wait_for(lambda s: "Data store ID" in s and "F2 chooses" in s, "the empty form with its picker hint")
        tmux.keys("F2")
        tmux.wait_for(lambda s: "journey-store" in s and store in s, "the data store in the picker")
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "Data store ID" in s and store in s, "the chosen data store in the form")

        tmux.keys("-l", "s3://jour")  # the focus moved on to the input URI
        tmux.wait_for(lambda s: "s3://journey-in/" in s, "the bucket completion")
        accept_completion(tmux, "s3://journey-in/")
        tmux.keys("-l", "ni")
        tmux.wait_for(lambda s: "s3://journey-in/night/" in s, "the folder completion (the first of night/, night2/)")
        accept_completion(tmux, "s3://journey-in/night/")
        tmux.keys("Tab")
        tmux.keys("-l", "s3://journey-o")
        tmux.wait_for(lambda s: "s3://journey-out/" in s, "the output bucket completion")
        accept_completion(tmux, "s3://journey-out/")
        tmux.keys("Tab")
        tmux.keys("-l", ROLE)
        tmux.wait_for(lambda s: "JourneyImportRole" in s, "the typed role")
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "Import job started" in s, "the started job")

        job = mi.list_dicom_import_jobs(datastoreId=store)["jobSummaries"][0]
        assert job["dataAccessRoleArn"] == ROLE
        properties = mi.get_dicom_import_job(datastoreId=store, jobId=job["jobId"])["jobProperties"]
        assert properties["inputS3Uri"] == "s3://journey-in/night/"
        assert properties["outputS3Uri"].startswith("s3://journey-out/")
        remembered = json.loads((tmp_path / ".local/state/ahi/import-roles.json").read_text())
        assert remembered == {"roles": {store: ROLE}}

        tmux.wait_for(lambda s: "Data store ID" not in s and job["jobId"] in s, "the job row in the list")
        tmux.keys("n")  # the cursor is on the job: its data store is the context, its role remembered
        screen = tmux.wait_for(lambda s: "Data store ID" in s and store in s and "JourneyImportRole" in s, "the prefilled form")
        assert "s3://journey-in/night/" not in screen, "only the data store and its role are filled in"
        tmux.keys("Escape")
        tmux.wait_for(lambda s: "Data store ID" not in s, "the form closed")
    finally:
        tmux.kill()


# --- the frame viewer ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def viewer_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An endpoint state holding one 128-pixel CT of the phantom head (read by both sizes)."""
    state = tmp_path_factory.mktemp("viewer") / "state"
    with LocalEndpoint(EndpointConfig(state_dir=state, datastore_transition_seconds=0)) as endpoint:
        mi, s3 = clients(endpoint.url)
        s3.create_bucket(Bucket="viewer-in")
        s3.create_bucket(Bucket="viewer-out")
        for name, data in ct_series(3, 128, subject=PATIENT, series_key="viewer"):
            s3.put_object(Bucket="viewer-in", Key=name, Body=data)
        store = mi.create_datastore(datastoreName="viewer-store", clientToken="viewer")["datastoreId"]
        until(lambda: mi.get_datastore(datastoreId=store)["datastoreProperties"]["datastoreStatus"] == "ACTIVE", "ACTIVE")
        job = mi.start_dicom_import_job(
            datastoreId=store, dataAccessRoleArn=ROLE, inputS3Uri="s3://viewer-in/ct/", outputS3Uri="s3://viewer-out/o/"
        )["jobId"]
        until(lambda: mi.get_dicom_import_job(datastoreId=store, jobId=job)["jobProperties"]["jobStatus"] == "COMPLETED", "the import")
    return state


def grey_levels(styled: str, rows: range) -> int:
    """Distinct 256-colour or truecolor codes drawn in the given screen rows."""
    lines = styled.splitlines()
    codes: set[str] = set()
    for index in rows:
        if index < len(lines):
            codes.update(re.findall(r"(?:38|48);(?:5;\d+|2;\d+;\d+;\d+)", lines[index]))
    return len(codes)


def rows_with(screen: str, text: str) -> list[int]:
    return [index for index, line in enumerate(screen.splitlines()) if text in line]


@pytest.mark.parametrize("size", SIZES)
def test_frame_viewer_windows_show_structure_typed_wl_overlay_and_strip(tmp_path: Path, viewer_state: Path, size: tuple[int, int]) -> None:
    width, height = size
    tmux = Tmux(tmp_path, size=size, colorterm="truecolor")
    try:
        open_console(tmux, viewer_state)
        tmux.wait_for(lambda s: "viewer-store" in s and "ACTIVE" in s, "the data store row")
        tmux.command(f"sets {PATIENT.patient_id}")
        tmux.wait_for(lambda s: "1 loaded" in s, "the search result")
        tmux.keys("v")
        screen = tmux.wait_for(
            lambda s: "CRC-32 ok" in s and "128×128 · zoom" in s and "(DICOM)" in s and "▲1" in s,
            "the preview with its size and zoom, and the thumbnail strip",
        )
        top, bottom = rows_with(screen, "128×128")[0] - 1, rows_with(screen, "(DICOM)")[0]
        strip = rows_with(screen, "▲1")[0]
        preview_rows = bottom - top + 1
        assert preview_rows >= height // 2, f"the preview has {preview_rows} of {height} rows"
        assert strip - bottom <= max(9, height // 4) + 1, "the thumbnail strip takes more than a quarter of the screen"

        image_rows = range(top + 2, bottom - 1)
        for key, label in (("4", "brain"), ("1", "soft tissue"), ("3", "bone")):
            tmux.keys(key)
            tmux.wait_for(lambda s, label=label: f"({label})" in s, f"the {label} window")
            levels = grey_levels(tmux.styled_screen(), image_rows)
            assert levels >= 6, f"the {label} window shows {levels} grey levels: no structure"

        tmux.keys("e")
        tmux.wait_for(lambda s: "Window width and level" in s, "the W/L prompt")
        tmux.keys("C-u")
        tmux.wait_for(lambda s: "1800 400" not in s, "the current window cleared")
        tmux.keys("-l", "wide")
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "width and a level" in s, "the problem with a word for a number")
        tmux.keys("C-u")
        tmux.wait_for(lambda s: "wide" not in s, "the word cleared")
        tmux.keys("-l", "350 60")
        tmux.wait_for(lambda s: "350 60" in s, "the typed numbers")
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "W 350 L 60 (typed)" in s, "the typed window on the overlay")
    finally:
        tmux.kill()


def test_frame_viewer_through_sixel_writes_the_frame_and_survives_a_dialog(tmp_path: Path, viewer_state: Path) -> None:
    """`--graphics sixel`: the overlay says so, the console writes one Sixel image of the frame, a dialog comes and goes."""
    raw_file = tmp_path / "pane.raw"
    tmux = Tmux(tmp_path, size=(80, 24), colorterm="truecolor")
    try:
        tmux.start_ahi("--local", "--state-dir", str(viewer_state), "--refresh", "0", "--graphics", "sixel", raw_output=raw_file)
        tmux.wait_for(lambda s: "viewer-store" in s and "ACTIVE" in s, "the data store row")
        tmux.command(f"sets {PATIENT.patient_id}")
        tmux.wait_for(lambda s: "1 loaded" in s, "the search result")
        tmux.keys("v")
        tmux.wait_for(lambda s: "128×128 · sixel" in s and "(DICOM)" in s, "the overlay naming Sixel")
        until(lambda: re.search(r'\x1bP0;1;0q"1;1;\d+;\d+#', raw_file.read_text(errors="replace")) is not None, "a Sixel image written")
        width, height = map(int, re.findall(r'\x1bP0;1;0q"1;1;(\d+);(\d+)#', raw_file.read_text(errors="replace"))[0])
        assert 0 < width <= 128 and 0 < height <= 128
        tmux.keys("e")
        tmux.wait_for(lambda s: "Window width and level" in s, "the W/L prompt over the image")
        tmux.keys("Escape")
        screen = tmux.wait_for(lambda s: "Window width and level" not in s and "128×128 · sixel" in s, "the preview again")
        assert '"1;1;' not in screen and "#0;2;" not in screen, "Sixel bytes shown as text"
    finally:
        tmux.kill()


# --- ahi local and the README -------------------------------------------------------------------------


def readme_exports(port: int) -> list[str]:
    """The README's `export` lines of the separately started endpoint, without their comments, on `port`."""
    text = README.read_text(encoding="utf-8")
    block = text[text.index("ahi local --port 4599") :].split("```", 1)[0]
    lines = [line.split("#", 1)[0].rstrip() for line in block.splitlines() if line.startswith("export ")]
    return [line.replace("4599", str(port)) for line in lines]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("size", SIZES)
def test_ahi_local_prints_the_readme_lines(tmp_path: Path, size: tuple[int, int]) -> None:
    tmux = Tmux(tmp_path, size=size)
    port = free_port()
    try:
        tmux.start(f"{AHI} local --port {port} --state-dir {tmp_path / 'state'}")
        screen = tmux.wait_for(lambda s: "stops it" in s, "the printed lines")
        printed = [line.rstrip() for line in screen.replace(" \n", "\n").splitlines()]
        exports = readme_exports(port)
        assert len(exports) >= 5
        assert [line for line in printed if line.startswith("export ")] == exports
        assert not [line for line in printed if " INFO " in line]
    finally:
        tmux.kill()


def test_codec_info_lines_stay_out_of_the_demo_output(tmp_path: Path) -> None:
    """The JPEG 2000 encoder of the demo's MR logs INFO per tile; `ahi local` logs INFO to the terminal."""
    import subprocess
    import sys

    script = (
        "import logging; logging.basicConfig(level=logging.INFO)\n"
        "from ahi.emulator.demo import phantoms\n"
        "phantoms.mr_series(2, 32); phantoms.broken_files()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert "openjpeg" not in done.stderr and "pydicom" not in done.stderr, done.stderr


# --- the first launch ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_first_launch_lists_the_demo_data_stores_before_the_studies_are_made(tmp_path: Path, size: tuple[int, int]) -> None:
    tmux = Tmux(tmp_path, size=size)
    state = tmp_path / "new-state"
    try:
        tmux.start_ahi("--local", "--state-dir", str(state))
        tmux.wait_for(
            lambda s: all(name in s for name in ("demo-imaging", "demo-aws-owned-key", "demo-disabled-key")),
            "the demo's data stores",
        )
        tmux.keys("C-q")
        assert tmux.wait_for_exit(30) == 0
    finally:
        tmux.kill()
