"""The console when the service misbehaves: throttling and 5xx on every call, a vanished endpoint, a wrong secret.

Every screen is walked through Pilot against the in-process endpoint with fault injection on, with
botocore's own retries (standard mode, 3 attempts; its sleeps set to zero so the test is fast) and
the console's backoff on top. The call log must account for every injected fault.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from image_set_world import World, fixed_image_set_ids, import_world
from textual.pilot import Pilot

sys.path.insert(0, str(Path(__file__).parents[1] / "tui"))
from console_harness import FROZEN, AppFactory, drive, settle, widget_text  # noqa: E402

from ahi.emulator.config import EndpointConfig  # noqa: E402
from ahi.emulator.server import LocalEndpoint  # noqa: E402
from ahi.services.backoff import Backoff  # noqa: E402
from ahi.tui.app import AhiApp  # noqa: E402
from ahi.tui.clock import Clock  # noqa: E402
from ahi.tui.config import ConsoleConfig  # noqa: E402
from ahi.tui.settings import build_parser, resolve  # noqa: E402
from ahi.tui.widgets.error_panel import ErrorPanel  # noqa: E402
from ahi.tui.widgets.resource_table import ResourceTable  # noqa: E402

#: The issue's weather: 20% throttling and 5% 5xx on every medical-imaging call.
WEATHER = "*:throttle=0.2,5xx=0.05"
FAULT_CODES = {"ThrottlingException", "InternalServerException"}


@pytest.fixture(autouse=True)
def no_retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore still retries as configured; it just does not sleep between attempts."""
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0.0)


@pytest.fixture
def endpoint_config(endpoint_config: EndpointConfig) -> EndpointConfig:
    endpoint_config.datastore_transition_seconds = 0
    endpoint_config.imageset_lock_seconds = 0.1
    return endpoint_config


@pytest.fixture
def world(endpoint: LocalEndpoint, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    """The image set world, imported before the weather turns."""
    fixed_image_set_ids(monkeypatch)
    return import_world(make_client("medical-imaging"), make_client("s3"))


def weather(endpoint: LocalEndpoint, spec: str = WEATHER, seed: int = 11) -> None:
    """Restart the endpoint (same state) with fault injection on; build clients afterwards (the port may change)."""
    endpoint.stop()
    endpoint.config.faults, endpoint.config.faults_seed = spec, seed
    endpoint.start()


@pytest.fixture
def console(endpoint: LocalEndpoint, aws_env: dict[str, str]) -> AppFactory:
    """An AhiApp on the endpoint with botocore's default retries (not the one attempt other console tests use)."""

    def make(*flags: str, endpoint_url: str | None = None) -> AhiApp:
        args = build_parser().parse_args(["--refresh", "0", *flags])
        options = resolve(args, ConsoleConfig(), {}, None)
        options = replace(options, connection=replace(options.connection, endpoint_url=endpoint_url or endpoint.url))
        return AhiApp(options, config=ConsoleConfig(), clock=Clock(frozen_at=FROZEN), backoff=Backoff(sleep=lambda s: None))

    return make


def panel_text(app: AhiApp) -> str:
    """The error panel's text on the current screen; "" when it shows none (or the screen has none)."""
    panels = list(app.screen.query(ErrorPanel))
    return widget_text(panels[0]) if panels and panels[0].showing else ""


async def visit(pilot: Pilot[Any], *keys: str) -> str:
    """Press the keys, let every worker finish; the error panel's text ("" when the screen loaded cleanly)."""
    await pilot.press(*keys)
    await settle(pilot)
    await settle(pilot)
    return panel_text(pilot.app)  # type: ignore[arg-type]


def test_every_screen_loads_under_throttling_and_server_errors(
    world: World, endpoint: LocalEndpoint, console: AppFactory
) -> None:
    weather(endpoint)
    app = console()

    async def scenario(pilot: Pilot[Any]) -> None:
        walked: dict[str, str] = {"data stores": panel_text(app)}
        assert len(app.screen.query_one(ResourceTable).rows_all) == 1
        walked["data store detail"] = await visit(pilot, "enter")
        walked["image sets"] = await visit(pilot, "escape", "colon", *"sets AHI-DEMO-001", "enter")
        assert app.screen.query_one("#image-sets", ResourceTable).rows_all
        walked["image set detail"] = await visit(pilot, "enter")
        walked["import jobs"] = await visit(pilot, "colon", *"jobs", "enter")
        walked["job detail"] = await visit(pilot, "enter")
        walked["kms keys"] = await visit(pilot, "colon", *"kms", "enter")
        walked["data stores again"] = await visit(pilot, "colon", *"ds", "enter")
        failed = {screen: text for screen, text in walked.items() if text}
        assert not failed, failed
        walked["call log"] = await visit(pilot, "exclamation_mark")
        assert app.screen.__class__.__name__ == "CallLogScreen"

    drive(app, scenario)
    assert endpoint.faults is not None
    injected = sum(endpoint.faults.counts().values())
    assert injected >= 3, "too few faults were injected for the walk to mean anything"
    assert_call_log_accounts_for(app, injected)


def assert_call_log_accounts_for(app: AhiApp, injected: int) -> None:
    """Each injected fault is one failed attempt: a retry botocore counted, or the last attempt of a failed call."""
    records = [record for record in app.call_log.records() if record.service == "medical-imaging"]
    seen = sum(record.retries for record in records) + sum(record.outcome in FAULT_CODES for record in records)
    assert seen == injected, f"the call log shows {seen} failed attempts, the endpoint injected {injected}"
    assert any(record.retries for record in records), "no call shows its retries"


def test_a_create_through_faults_creates_one_data_store(
    world: World, endpoint: LocalEndpoint, console: AppFactory, make_client: Any
) -> None:
    """A 500 after the create committed, then throttling until botocore gives up and the console's backoff
    sends it again: one clientToken from the form to the last attempt, so one data store."""
    # Seed 41: CreateDatastore attempt 1 commits then answers 500, attempts 2 and 3 are throttled, 4 succeeds.
    weather(endpoint, "CreateDatastore:throttle=0.3,5xx-after=0.3;*:throttle=0.2,5xx=0.05", seed=41)
    app = console()

    async def scenario(pilot: Pilot[Any]) -> None:
        await visit(pilot, "n")
        text = await visit(pilot, *"radiology", "enter")
        assert text == "", text

    drive(app, scenario)
    assert endpoint.faults is not None
    counts = endpoint.faults.counts()
    assert (counts[("CreateDatastore", "5xx-after")], counts[("CreateDatastore", "throttle")]) == (1, 2)
    creates = [record for record in app.call_log.records() if record.operation == "CreateDatastore"]
    assert [(record.outcome, record.retries) for record in creates] == [("ThrottlingException", 2), ("OK", 0)]
    stores = make_client("medical-imaging", config=Config(retries={"total_max_attempts": 10})).list_datastores()
    assert sorted(store["datastoreName"] for store in stores["datastoreSummaries"]) == ["imaging-archive", "radiology"]


def test_a_vanished_endpoint_is_named_and_the_console_recovers_by_itself(
    world: World, endpoint: LocalEndpoint, console: AppFactory
) -> None:
    app = console("--refresh", "5")
    port = endpoint.port

    async def scenario(pilot: Pilot[Any]) -> None:
        assert panel_text(app) == ""
        endpoint.stop()
        app.clock.advance(5)
        app.screen.tick()
        text = await visit(pilot)
        assert "ListDatastores failed" in text and "EndpointConnectionError" in text, text
        assert "cannot be reached" in text and str(port) in text
        endpoint.config.port = port
        endpoint.start()
        app.clock.advance(5)
        app.screen.tick()
        assert await visit(pilot) == ""
        assert len(app.screen.query_one(ResourceTable).rows_all) == 1

    drive(app, scenario)


def test_a_wrong_secret_says_credentials_rejected_with_the_profile(
    endpoint: LocalEndpoint, console: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint.stop()
    endpoint.config.verify_signatures = True
    endpoint.config.secrets = {"AKIDIMAGINGOPS": "the-real-secret"}
    endpoint.start()
    credentials = tmp_path / "credentials"
    credentials.write_text("[imaging-ops]\naws_access_key_id = AKIDIMAGINGOPS\naws_secret_access_key = a-stale-secret\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    app = console("--profile", "imaging-ops", "--region", "us-east-1")

    async def scenario(pilot: Pilot[Any]) -> None:
        text = panel_text(app)
        assert "InvalidSignatureException" in text, text
        assert "credentials rejected" in text.lower() and "imaging-ops" in text, text

    drive(app, scenario)


def test_backoff_repeats_reads_after_server_faults_but_never_writes() -> None:
    from ahi.services.errors import AwsCallError

    def failing_twice(operation: str) -> tuple[list[int], Any]:
        calls: list[int] = []

        def call() -> str:
            calls.append(1)
            if len(calls) <= 2:
                raise AwsCallError(operation, "InternalServerException", "down")
            return "ok"

        return calls, call

    calls, read = failing_twice("GetImageSetMetadata")
    assert Backoff(sleep=lambda s: None).call("GetImageSetMetadata", read) == "ok" and len(calls) == 3
    calls, write = failing_twice("CopyImageSet")
    with pytest.raises(AwsCallError):
        Backoff(sleep=lambda s: None).call("CopyImageSet", write)
    assert len(calls) == 1


def test_a_response_cut_short_is_a_dropped_connection_not_an_empty_answer(aws_env: dict[str, str]) -> None:
    """An endpoint killed mid-response: headers promise 200 bytes, 1 arrives. boto3 alone would parse `{}`."""
    import socket
    import threading

    from ahi.services.datastores import DatastoreService
    from ahi.services.errors import AwsCallError
    from ahi.services.session import AwsSession, ConnectionSettings

    listener = socket.create_server(("127.0.0.1", 0))

    def answer_then_die() -> None:
        for _ in range(3):
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{")

    threading.Thread(target=answer_then_die, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    session = AwsSession(ConnectionSettings(region="us-east-1", endpoint_url=url, local_credentials=True, max_attempts=1))
    with pytest.raises(AwsCallError) as caught:
        DatastoreService(session.medical_imaging, Backoff(sleep=lambda s: None)).get("a" * 32)
    assert caught.value.code == "ConnectionClosedError"
    assert "stopped after 1 of 200 bytes" in caught.value.message
    assert [record.outcome for record in session.call_log.records()] == ["ConnectionClosedError"]
    listener.close()


def test_head_requests_keep_their_length_without_a_body(endpoint: LocalEndpoint, aws_env: dict[str, str]) -> None:
    from ahi.services.session import AwsSession, ConnectionSettings

    session = AwsSession(ConnectionSettings(region="us-east-1", endpoint_url=endpoint.url, local_credentials=True))
    s3 = session.client("s3")
    s3.create_bucket(Bucket="heads")
    s3.put_object(Bucket="heads", Key="object", Body=b"x" * 1000)
    assert s3.head_object(Bucket="heads", Key="object")["ContentLength"] == 1000
