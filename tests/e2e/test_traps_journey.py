"""Traps a person fell into, each walked in a real terminal (tmux) at 80x24 and 120x40, typing as a person types:
keys in one burst (a paste or a fast typist), pastes, and reading the screen after.

One endpoint runs in this process for the whole module, seeded once (image sets, a job whose failures are
partly content rejections and partly a server hiccup, which only an endpoint in this process can be made to
have); each console talks to it with --endpoint-url, and journeys that change things use their own names.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from image_set_world import PATIENT_B, import_world
from journey_clients import journey_clients
from tmux_harness import Tmux
from triage_helpers import FLAKY_MARK, INPUT_BUCKET, OUTPUT_BUCKET, ROLE, make_flaky_files_fail, run_import

from ahi.emulator.config import EndpointConfig
from ahi.emulator.demo.phantoms import ct_series
from ahi.emulator.server import LocalEndpoint

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
NOT_DICOM = b"This is a radiology report in plain text, not a DICOM file.\n" * 4
REVERSE = re.compile(r"\x1b\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m")


def clients(endpoint_url: str) -> tuple[Any, Any]:
    mi, s3 = journey_clients(endpoint_url, "medical-imaging", "s3")
    return mi, s3


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The shared endpoint, seeded: its URL and the IDs in it."""
    state = tmp_path_factory.mktemp("traps") / "state"
    patch = pytest.MonkeyPatch()
    make_flaky_files_fail(patch)
    try:
        with LocalEndpoint(EndpointConfig(state_dir=state, datastore_transition_seconds=0)) as endpoint:
            mi, s3 = clients(endpoint.url)
            world = import_world(mi, s3)
            for bucket in (INPUT_BUCKET, OUTPUT_BUCKET):
                s3.create_bucket(Bucket=bucket)
            files = [
                ("report-1.dcm", NOT_DICOM), ("report-2.dcm", NOT_DICOM),
                (f"{FLAKY_MARK}-1.dcm", ct_series(1, 32, series_key="flaky")[0][1]),
            ]  # fmt: skip
            run_import(mi, s3, files, datastore_id=world.datastore_id, job_name="night-batch", input_uri=f"s3://{INPUT_BUCKET}/night/")
            yield {"url": endpoint.url, "archive": world.datastore_id, "image_sets": world.image_sets}
    finally:
        patch.undo()


@pytest.fixture(params=SIZES)
def tmux(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tmux]:
    session = Tmux(tmp_path, size=request.param)
    yield session
    session.kill()


def start(tmux: Tmux, seeded: dict[str, Any], *flags: str) -> None:
    """ahi on the shared endpoint, with credentials in the files the pane's environment names."""
    (tmux.home / "no-aws-credentials").write_text("[default]\naws_access_key_id = e2e\naws_secret_access_key = e2e\n")
    (tmux.home / "no-aws-config").write_text("[default]\nregion = us-east-1\n")
    tmux.start_ahi("--endpoint-url", seeded["url"], "--region", "us-east-1", *flags)
    tmux.wait_for(lambda s: "imaging-archive" in s, "the data store list")


def fill_start_form(tmux: Tmux, seeded: dict[str, Any], output_folder: str, job_name: str, input_uri: str = f"s3://{INPUT_BUCKET}/night/") -> None:
    """Open the start form and type every field from the focused one on, Tab between, Enter at the end: one burst.

    The form puts the focus on its first empty field (the data store comes from the screen's context when
    there is one), so the burst starts there, as a person's typing would.
    """
    tmux.keys("n")
    form = tmux.wait_for(lambda s: "Start import job" in s and "Data store ID" in s, "the start form")
    values = [seeded["archive"], input_uri, f"s3://{OUTPUT_BUCKET}/{output_folder}/", ROLE, job_name]
    if seeded["archive"] in form:
        values = values[1:]
    tmux.burst(*(f"\x05\x15{value}\t" for value in values), "\x05\x15\r")


def unique(name: str) -> str:
    """A name no other journey on the shared endpoint uses."""
    return f"{name}-{uuid.uuid4().hex[:6]}"


def test_delete_confirmation_takes_the_typed_and_the_pasted_id(tmux: Tmux, seeded: dict[str, Any]) -> None:
    mi, _s3 = clients(seeded["url"])
    name = unique("scratch")
    scratch = mi.create_datastore(datastoreName=name)["datastoreId"]
    start(tmux, seeded, "--refresh", "0")
    tmux.keys("/")
    tmux.wait_for(lambda s: "Filter" in s or "filter" in s, "the filter bar")
    tmux.keys("-l", name)
    tmux.keys("Enter")
    tmux.wait_for(lambda s: name in s and "imaging-archive" not in s, "only the scratch store listed")
    tmux.keys("D")
    tmux.wait_for(lambda s: "to confirm" in s, "the delete confirmation")
    tmux.burst("not-the-id\r")
    tmux.wait_for(lambda s: "does not match" in s, "the mismatch said")
    assert name in tmux.screen()
    tmux.burst("\x15")
    tmux.wait_for(lambda s: "not-the-id" not in s, "the field cleared")
    tmux.paste(scratch)
    tmux.wait_for(lambda s: "Enter confirms" in s, "the pasted ID matching")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "to confirm" not in s and re.search(r"DELETING|DELETED|0/0 rows|0/1 rows", s) is not None, "the store deleted")


def test_a_job_started_elsewhere_appears_and_one_started_here_shows_outside_the_view(
    tmux: Tmux, seeded: dict[str, Any]
) -> None:
    start(tmux, seeded, "--refresh", "2")
    mi, _s3 = clients(seeded["url"])
    elsewhere, here = unique("from-the-cli"), unique("typed-burst")
    tmux.command("jobs")
    tmux.wait_for(lambda s: "night-batch" in s and "auto 2 s" in s, "the jobs, refreshing every 2 s with no job running")
    mi.start_dicom_import_job(
        jobName=elsewhere, datastoreId=seeded["archive"], dataAccessRoleArn=ROLE,
        inputS3Uri=f"s3://{INPUT_BUCKET}/night/", outputS3Uri=f"s3://{OUTPUT_BUCKET}/cli/",
    )  # fmt: skip
    tmux.wait_for(lambda s: elsewhere in s, "the job started with the SDK, within the refresh interval", timeout=15)

    tmux.keys("f")
    tmux.wait_for(lambda s: "view: failed" in s, "the failed view")
    fill_start_form(tmux, seeded, "typed", here, input_uri="s3://world-input/in/")  # clean files: the failed view hides it
    tmux.wait_for(lambda s: here in s and "outside view" in s, "the new job, shown although the failed view hides it")


def test_enter_in_the_search_moves_to_the_results_and_the_focused_field_shows_in_256_colours(
    tmux: Tmux, seeded: dict[str, Any]
) -> None:
    tmux.term = "screen-256color"
    start(tmux, seeded, "--refresh", "0")
    tmux.command("sets")
    tmux.wait_for(lambda s: "Patient ID" in s and "Enter runs the search" in s, "the empty search form")
    labelled = [line for line in tmux.styled_screen().splitlines() if "Patient ID" in line]
    assert labelled and REVERSE.search(labelled[0].split("Patient ID")[0][-40:]), "the focused field is not marked"
    tmux.burst(PATIENT_B.patient_id, "\rm")
    screen = tmux.wait_for(lambda s: "Doe, Jane" in s and " loaded" in s, "the search result")
    assert f"{PATIENT_B.patient_id}m" not in screen, "the m after Enter landed in the patient ID"
    tmux.wait_for(lambda s: re.search(r"Everything is loaded|still running", " ".join(s.split())) is not None, "m answered by the results")


def test_import_form_tab_burst_lands_each_value_in_its_field(tmux: Tmux, seeded: dict[str, Any]) -> None:
    job_name = unique("tab-burst")
    start(tmux, seeded, "--refresh", "0")
    tmux.command("jobs")
    tmux.wait_for(lambda s: "night-batch" in s, "the jobs")
    fill_start_form(tmux, seeded, "tabbed", job_name)
    tmux.wait_for(lambda s: job_name in s and "Data store ID" not in s, "the form closed and its job listed")
    assert job_name in {j["jobName"] for j in clients(seeded["url"])[0].list_dicom_import_jobs(datastoreId=seeded["archive"])["jobSummaries"]}


def test_reimport_is_offered_only_where_a_retry_can_pass(tmux: Tmux, seeded: dict[str, Any]) -> None:
    start(tmux, seeded, "--refresh", "0")
    tmux.command("jobs")
    tmux.wait_for(lambda s: "night-batch" in s and "COMPLETED ⚠" in s, "the job needing attention")
    tmux.keys("f")
    tmux.wait_for(lambda s: "view: failed" in s and "night-batch" in s, "the failed view")
    tmux.keys("/")
    tmux.wait_for(lambda s: "Filter" in s or "filter" in s, "the filter bar")
    tmux.keys("-l", "night-batch")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "1/" in s and "filter (local): night-batch" in s, "only the seeded job listed")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "Failures (3 in 2 reason(s))" in s, "the grouped reasons")
    tmux.keys("R")
    tmux.wait_for(lambda s: "would fail again" in s, "the refusal for files that are not DICOM P10")
    tmux.keys("Up")
    tmux.keys("R")
    screen = tmux.wait_for(lambda s: "Re-import failed files?" in s, "the confirmation for the whole job")
    assert "was rejected" in " ".join(screen.split()), "the files a retry cannot help are not left out"
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Re-import failed files?" not in s, "the confirmation cancelled")


def test_read_only_keys_say_they_are_refused(tmux: Tmux, seeded: dict[str, Any]) -> None:
    start(tmux, seeded, "--refresh", "0", "--read-only")
    tmux.keys("n")
    tmux.wait_for(lambda s: "Refused: Create data store" in s, "n refused on the data store list")
    tmux.command(f"sets {PATIENT_B.patient_id}")
    tmux.wait_for(lambda s: "Doe, Jane" in s and " loaded" in s, "the search result")
    tmux.keys("Enter")
    screen = tmux.wait_for(lambda s: "Versions (Enter shows one, d diffs)" in s, "the image set detail")
    assert "reverts" not in screen
    for key, description in (("D", "Delete image set"), ("u", "Update attribute"), ("R", "Revert to this version"),
                             ("K", "Copy image set"), ("T", "Add tag to marked"), ("U", "Remove tag from marked")):  # fmt: skip
        tmux.keys(key)
        tmux.wait_for(lambda s, d=description: f"Refused: {d}" in " ".join(s.split()), f"{key} refused")
