"""DICOMweb in the console through Pilot: copy the URL of a study, series or instance (`w`), see which image
sets need `imageSetId`, and export `.dcm` files (`E`) that pydicom reads, with failures shown, not crashing.

One endpoint (signature verification on, so the console's own SigV4 signing is checked on every
request) and one imported world serve the module; each test exports into its own folder. The client's
backoff is tested against an endpoint of its own that injects faults into GetDICOMInstance, and a 503
without an error code (which the endpoint never answers) against a small server.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pydicom
import pytest
from botocore.config import Config
from botocore.credentials import Credentials
from console_harness import AppFactory, drive, notifications, settle, widget_text
from console_harness import until as console_until
from local_endpoints import provide_empty_state, quick_config, until
from textual.pilot import Pilot
from textual.widgets import Input

from ahi.emulator.demo.phantoms import ct_series
from ahi.emulator.faults import parse_spec
from ahi.emulator.faults.injector import draws
from ahi.emulator.server import LocalEndpoint
from ahi.screens.dicomweb_export import FOLDER_FILE, ExportStatus
from ahi.screens.image_set_detail import ImageSetDetailScreen
from ahi.screens.metadata_view import MetadataViewScreen
from ahi.screens.prompt_dialog import PromptDialog
from ahi.services.backoff import Backoff
from ahi.services.call_log import CallLog
from ahi.services.connection import Connection
from ahi.services.dicomweb import DicomwebService
from ahi.services.dicomweb_urls import DicomwebTarget
from ahi.services.session import ConnectionSettings

sys.path.append(str(Path(__file__).resolve().parents[1] / "dicomweb"))
from raw_http import ACCESS_KEY, SECRET_KEY  # noqa: E402
from signing import signed_session  # noqa: E402
from world import DicomwebWorld, dicomweb_world  # noqa: E402 - the DICOMweb tests' world lives beside them

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"


@pytest.fixture(scope="module")
def dw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DicomwebWorld]:
    with dicomweb_world(tmp_path_factory.mktemp("dicomweb-console")) as built:
        yield built


@pytest.fixture(scope="module")
def endpoint(dw: DicomwebWorld) -> LocalEndpoint:
    """The console's fixtures (make_app, aws_env) run on the world's endpoint."""
    return dw.endpoint


@pytest.fixture(autouse=True)
def world_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--local` signs with fixed dummy keys; the world's endpoint verifies signatures with its own key."""
    monkeypatch.setattr("ahi.services.session.LOCAL_CREDENTIALS", (ACCESS_KEY, SECRET_KEY))


def document(dw: DicomwebWorld, image_set_id: str) -> dict[str, Any]:
    blob = dw.mi.get_image_set_metadata(datastoreId=dw.datastore_id, imageSetId=image_set_id)["imageSetMetadataBlob"]
    return json.loads(gzip.decompress(blob.read()))


def sop_uids(dw: DicomwebWorld, image_set_id: str) -> set[str]:
    return {sop for series in document(dw, image_set_id)["Study"]["Series"].values() for sop in series["Instances"]}


async def open_detail(pilot: Pilot[Any], dw: DicomwebWorld, image_set_id: str) -> ImageSetDetailScreen:
    await pilot.app.push_screen(ImageSetDetailScreen(dw.datastore_id, image_set_id))
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImageSetDetailScreen) and screen.latest is not None
    return screen


async def open_metadata_at(pilot: Pilot[Any], dw: DicomwebWorld, image_set_id: str, needle: str) -> MetadataViewScreen:
    """The metadata view with the cursor on the first node matching `needle` (a series or SOP UID)."""
    await pilot.app.push_screen(MetadataViewScreen(dw.datastore_id, image_set_id))
    await settle(pilot)
    view = pilot.app.screen
    assert isinstance(view, MetadataViewScreen)
    await find(pilot, view, needle)
    return view


async def find(pilot: Pilot[Any], view: MetadataViewScreen, needle: str) -> None:
    """`/` NEEDLE Enter: the cursor goes to the first node that matches."""
    await pilot.press("slash")
    view.query_one("#tree-search", Input).value = needle
    await pilot.press("enter")
    await settle(pilot)


async def export_to(pilot: Pilot[Any], folder: Path | None, key: str = "E") -> tuple[ExportStatus, str]:
    """Press the export key, answer the folder dialog (its pre-filled value unless `folder`), wait for the summary."""
    status = pilot.app.screen.query_one(ExportStatus)
    previous = status.summary
    await pilot.press(key)
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, PromptDialog), f"no folder dialog: {notifications(pilot.app)}"
    field = dialog.query_one(Input)
    offered = field.value
    if folder is not None:
        field.value = str(folder)
    await pilot.press("enter")
    await console_until(pilot, lambda: status.summary is not None and status.summary is not previous, "the export's end")
    return status, offered


def read_all(folder: Path) -> dict[str, pydicom.Dataset]:
    """Every .dcm file of `folder` by name, parsed by pydicom (pixels included)."""
    found = {}
    for path in sorted(folder.glob("*.dcm")):
        dataset = pydicom.dcmread(path)
        assert dataset.pixel_array.size > 0
        found[path.name] = dataset
    return found


def test_copy_urls_of_study_series_and_instance_and_fetch_them(dw: DicomwebWorld, make_app: AppFactory) -> None:
    app = make_app()
    ct = dw.instances["ct-2"]
    renamed = dw.instances["renamed"]

    async def scenario(pilot: Pilot[Any]) -> None:
        detail = await open_detail(pilot, dw, ct.image_set_id)
        assert "reachable by its UIDs (primary)" in widget_text(detail.query_one("#properties"))
        await pilot.press("w")
        await settle(pilot)
        assert app.clipboard == f"{dw.base_url}/studies/{ct.study_uid}"

        view = await open_metadata_at(pilot, dw, ct.image_set_id, ct.series_uid)
        await pilot.press("w")
        await settle(pilot)
        assert app.clipboard == f"{dw.base_url}/studies/{ct.study_uid}/series/{ct.series_uid}"

        await find(pilot, view, ct.sop_uid)
        await pilot.press("w")
        await settle(pilot)
        instance_url = f"{dw.base_url}/studies/{ct.study_uid}/series/{ct.series_uid}/instances/{ct.sop_uid}"
        assert app.clipboard == instance_url
        fetched = dw.session().get(app.clipboard, headers={"Accept": "application/dicom"}, timeout=30)
        assert fetched.status_code == 200, fetched.text
        assert pydicom.dcmread(io.BytesIO(fetched.content)).SOPInstanceUID == ct.sop_uid

        await pilot.press("escape", "escape")
        await settle(pilot)
        detail = await open_detail(pilot, dw, renamed.image_set_id)
        assert "not reachable without imageSetId" in widget_text(detail.query_one("#properties"))
        await pilot.press("w")
        await settle(pilot)
        assert app.clipboard == f"{dw.base_url}/studies/{renamed.study_uid}?imageSetId={renamed.image_set_id}"
        assert any("imageSetId" in message or renamed.image_set_id in message for message in notifications(app))

        await open_metadata_at(pilot, dw, renamed.image_set_id, renamed.sop_uid)
        await pilot.press("w")
        await settle(pilot)
        pinned = app.clipboard
        assert pinned.endswith(f"/instances/{renamed.sop_uid}?imageSetId={renamed.image_set_id}")
        assert dw.session().get(pinned, headers={"Accept": "application/dicom"}, timeout=30).status_code == 200
        unpinned = dw.session().get(pinned.split("?")[0], headers={"Accept": "application/dicom"}, timeout=30)
        assert unpinned.status_code == 404

    drive(app, scenario)


def test_export_an_image_set_twice_never_overwrites_and_remembers_the_folder(
    dw: DicomwebWorld, make_app: AppFactory, tmp_path: Path, private_state_home: Path
) -> None:
    app = make_app()
    ct = dw.instances["ct-1"]
    folder = tmp_path / "out"
    expected = sop_uids(dw, ct.image_set_id)

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, dw, ct.image_set_id)
        status, offered = await export_to(pilot, folder)
        assert offered.endswith("dicom-export")
        summary = status.summary
        assert summary is not None and not summary.failed and len(summary.written) == len(expected) == 3
        assert f"3 of 3 instances written to {folder}" in widget_text(status)
        first = read_all(folder)
        assert {f"{sop}.dcm" for sop in expected} == set(first)
        assert {str(d.SOPInstanceUID) for d in first.values()} == expected
        assert {str(d.file_meta.TransferSyntaxUID) for d in first.values()} == {EXPLICIT_VR_LITTLE_ENDIAN}
        before = {name: (folder / name).read_bytes() for name in first}

        calls = [r for r in app.call_log.records() if r.operation == "GetDICOMInstance"]
        assert len(calls) == 3 and all(r.ok for r in calls)
        assert all(r.cli_command.startswith("curl --aws-sigv4 aws:amz:us-east-1:medical-imaging") for r in calls)
        assert all(f"imageSetId={ct.image_set_id}" in r.cli_command and "$AWS_SECRET_ACCESS_KEY" in r.cli_command for r in calls)

        status, offered = await export_to(pilot, None)
        assert offered == str(folder)
        second = read_all(folder)
        assert set(second) == set(first) | {f"{sop}-1.dcm" for sop in expected}
        assert {name: (folder / name).read_bytes() for name in first} == before
        assert not [p for p in folder.iterdir() if p.name.startswith(".")]

    drive(app, scenario)
    remembered = until(lambda: list(private_state_home.rglob(FOLDER_FILE)), "the remembered folder file")
    assert json.loads(remembered[0].read_text())["export"]["folder"] == str(folder)


def test_read_only_exports_one_instance_of_a_non_primary_image_set_from_the_metadata(
    dw: DicomwebWorld, make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app("--read-only")
    renamed = dw.instances["renamed"]

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_metadata_at(pilot, dw, renamed.image_set_id, renamed.sop_uid)
        status, _ = await export_to(pilot, tmp_path)
        assert status.summary is not None and len(status.summary.written) == 1 and not status.summary.failed
        (written,) = read_all(tmp_path).values()
        assert written.SOPInstanceUID == renamed.sop_uid and str(written.PatientName) == "Phantom^Renamed"

    drive(app, scenario)


def test_an_export_whose_image_set_is_gone_lists_the_failures_and_the_console_goes_on(
    dw: DicomwebWorld, make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    source = dw.instances["ct-1"].image_set_id
    copied = dw.mi.copy_image_set(
        datastoreId=dw.datastore_id, sourceImageSetId=source, copyImageSetInformation={"sourceImageSet": {"latestVersionId": "1"}}
    )["destinationImageSetProperties"]["imageSetId"]
    until(lambda: dw.mi.get_image_set(datastoreId=dw.datastore_id, imageSetId=copied)["imageSetState"] == "ACTIVE", "the copy")

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, dw, copied)
        await pilot.press("E")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        dw.mi.delete_image_set(datastoreId=dw.datastore_id, imageSetId=copied)
        until(lambda: dw.mi.get_image_set(datastoreId=dw.datastore_id, imageSetId=copied)["imageSetState"] == "DELETED", "the delete")
        app.screen.query_one(Input).value = str(tmp_path)
        await pilot.press("enter")
        status = app.screen.query_one(ExportStatus)
        await console_until(pilot, lambda: status.summary is not None, "the export's end")
        summary = status.summary
        assert summary is not None and not summary.written and len(summary.failed) == 3
        assert all("ResourceNotFoundException" in why for _, why in summary.failed), summary.failed
        assert "0 of 3 instances written" in widget_text(status) and "3 failed" in widget_text(status)
        assert list(tmp_path.iterdir()) == []
        assert isinstance(app.screen, ImageSetDetailScreen)

    drive(app, scenario)


def test_a_connection_to_aws_sends_dicomweb_to_the_regions_dicom_host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_MEDICAL_IMAGING", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    connection = Connection.for_settings(ConnectionSettings(region="eu-west-1"))
    target = DicomwebTarget("d" * 32, "1.2.3", "1.2.3.4", "1.2.3.4.5", image_set_id="e" * 32)
    assert connection.dicomweb.url(target) == (
        "https://dicom-medical-imaging.eu-west-1.amazonaws.com/datastore/" + "d" * 32
        + "/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5?imageSetId=" + "e" * 32
    )  # fmt: skip


def fault_seed(spec: str, operation: str, wanted: list[str | None]) -> int:
    """A seed whose first requests of `operation` draw the `wanted` fault kinds in order (None: no fault)."""
    faults = parse_spec(spec).for_operation(operation)
    assert faults is not None

    def kinds(seed: int) -> list[str | None]:
        outcomes = (faults.outcome_for(draws(seed, operation, number)[0]) for number in range(len(wanted)))
        return [None if outcome is None else outcome.kind for outcome in outcomes]

    return next(seed for seed in range(100_000) if kinds(seed) == wanted)


def test_throttling_and_server_faults_are_retried_with_backoff_and_each_attempt_is_logged(tmp_path: Path) -> None:
    """An endpoint of its own throttles the first GetDICOMInstance and fails the second (fault injection)."""
    spec = "GetDICOMInstance:throttle=0.4,5xx=0.4"
    config = quick_config(
        tmp_path / "state", verify_signatures=True, secrets={ACCESS_KEY: SECRET_KEY},
        faults=spec, faults_seed=fault_seed(spec, "GetDICOMInstance", ["throttle", "5xx", None]),
    )  # fmt: skip
    provide_empty_state(config.state_dir)
    endpoint = LocalEndpoint(config).start()  # not `running`: its moto reset would empty the module world's buckets
    try:
        mi = boto3.client(
            "medical-imaging", region_name="us-east-1", endpoint_url=endpoint.url, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, config=Config(inject_host_prefix=False),
        )  # fmt: skip
        datastore_id = mi.create_datastore(datastoreName="faults")["datastoreId"]
        until(lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE")
        ((_, source),) = ct_series(1, 16, series_key="faults")
        with signed_session(ACCESS_KEY, SECRET_KEY, "us-east-1") as session:
            stored = session.post(f"{endpoint.url}/datastore/{datastore_id}/studies", data=source,
                                  headers={"Content-Type": "application/dicom"}, timeout=30)  # fmt: skip
        assert stored.status_code == 200, stored.text
        dataset = pydicom.dcmread(io.BytesIO(source), stop_before_pixels=True)
        log, waits = CallLog(), []
        service = DicomwebService(
            lambda: Credentials(ACCESS_KEY, SECRET_KEY, "token"), "us-east-1", endpoint.url, log,
            Backoff(sleep=waits.append, jitter=lambda ceiling: ceiling),
        )  # fmt: skip
        uids = (dataset.StudyInstanceUID, dataset.SeriesInstanceUID, dataset.SOPInstanceUID)
        written = service.get_instance(DicomwebTarget(datastore_id, *uids), tmp_path, "instance")
        injected = endpoint.faults.counts() if endpoint.faults else None
    finally:
        endpoint.stop()
    assert pydicom.dcmread(written.path).SOPInstanceUID == dataset.SOPInstanceUID and written.path.name == "instance.dcm"
    assert [record.outcome for record in log.records()] == ["ThrottlingException", "InternalServerException", "OK"]
    assert waits == [0.5, 1.0]
    assert injected == {("GetDICOMInstance", "throttle"): 1, ("GetDICOMInstance", "5xx"): 1}
    assert 'x-amz-security-token: $AWS_SESSION_TOKEN' in log.records()[0].cli_command


def test_a_503_without_an_error_code_is_retried_as_service_unavailable(tmp_path: Path) -> None:
    """The endpoint never answers 503; a load balancer in front of a service may, with no body: a server of its own."""
    answers = [(503, b""), (200, b"DICM-bytes")]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            status, body = answers.pop(0)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # shutdown() waits one poll
    try:
        log, waits = CallLog(), []
        service = DicomwebService(
            lambda: Credentials("AKID", "secret"), "us-east-1", f"http://127.0.0.1:{server.server_port}", log,
            Backoff(sleep=waits.append, jitter=lambda ceiling: ceiling),
        )  # fmt: skip
        written = service.get_instance(DicomwebTarget("d" * 32, "1.2", "1.2.3", "1.2.3.4"), tmp_path, "1.2.3.4")
    finally:
        server.shutdown()
        server.server_close()
    assert written.path.read_bytes() == b"DICM-bytes"
    assert [record.outcome for record in log.records()] == ["ServiceUnavailable", "OK"] and waits == [0.5]
