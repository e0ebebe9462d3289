"""Start-up: what the first screen imports, the local endpoint process started while the console loads, the demo seed
in the background, key alerts from the first screen, and an exit that waits for no worker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from console_harness import AppFactory, drive, settle, until, widget_text
from textual.pilot import Pilot

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.screens.datastores import DatastoresScreen
from ahi.screens.kms_status import KmsStatusScreen
from ahi.tui.app import AhiApp
from ahi.tui.config import ConsoleConfig
from ahi.tui.launch import LOCAL_PENDING_URL
from ahi.services.local_endpoint import SEED_PENDING_FILE, LocalEndpointRun
from ahi.tui.navigation import SCREENS, load_screens
from ahi.tui.settings import build_parser, resolve
from ahi.tui.widgets.resource_table import ResourceTable

#: Libraries only the image set screens and the import pipeline need.
HEAVY = ("numpy", "pydicom", "imagecodecs", "PIL")
ROOT = Path(__file__).resolve().parents[2]

FIRST_SCREEN = """
import asyncio, json, sys
from ahi.tui.app import AhiApp
from ahi.tui.commands import complete
from ahi.tui.config import ConsoleConfig
from ahi.tui.settings import build_parser, resolve

args = build_parser().parse_args(["--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1", "--refresh", "0"])
app = AhiApp(resolve(args, ConsoleConfig(), {}, None))

async def main():
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        loaded = {"screen": type(app.screen).__name__, "completion": complete(app, "se"),
                  "modules": sorted(name for name in sys.modules if name.split(".")[0] in HEAVY or name.startswith("screens."))}
        print(json.dumps(loaded))

HEAVY = %r
asyncio.run(main())
"""

ENDPOINT_START = """
import json, sys
from pathlib import Path
from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint

LocalEndpoint(EndpointConfig(state_dir=Path(sys.argv[1]))).start().stop()
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in %r)))
"""


def run_python(code: str, *args: str) -> Any:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_first_screen_loads_no_imaging_library_and_no_other_screen() -> None:
    loaded = run_python(FIRST_SCREEN % (HEAVY,))
    assert loaded["screen"] == "DatastoresScreen"
    assert [name for name in loaded["modules"] if name.split(".")[0] in HEAVY] == []
    assert "ahi.screens.image_set_search" not in loaded["modules"] and "ahi.screens.jobs" not in loaded["modules"]
    assert "sets" in loaded["completion"], "a screen not yet imported is still completed"


def test_endpoint_start_loads_no_imaging_library(tmp_path: Path) -> None:
    assert run_python(ENDPOINT_START % (HEAVY,), str(tmp_path / "state")) == []


def test_a_keymap_may_name_actions_of_screens_not_yet_opened(tmp_path: Path) -> None:
    """Screens load on first use, but a keymap is checked against every action before the console starts."""
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\n"preview.invert" = "I"\n"jobs.failed" = "F"\n')
    code = "import json; from tui.launch import load_checked_config; print(json.dumps(load_checked_config().keymap))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "AHI_CONFIG": str(config)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"preview.invert": "I", "jobs.failed": "F"}


def test_each_declared_screen_builds_the_class_it_names() -> None:
    assert load_screens() is SCREENS
    for spec in SCREENS.values():
        assert type(spec.factory(None)).__name__ == spec.cls, spec.module


def test_key_alerts_show_on_the_first_screen(seeded: dict[str, str], make_app: AppFactory, kms: Any) -> None:
    key_id = kms.describe_key(KeyId="alias/neuro")["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key_id)
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        assert isinstance(app.screen, DatastoresScreen)
        assert "1 key alert" in widget_text(app.screen.query_one("ContextHeader"))
        kms.enable_key(KeyId=key_id)
        await pilot.press("r")
        await settle(pilot)
        assert "key alert" not in widget_text(app.screen.query_one("ContextHeader"))
        kms.disable_key(KeyId=key_id)
        await pilot.press("colon", *"kms", "enter")
        await settle(pilot)
        assert isinstance(app.screen, KmsStatusScreen)
        assert "1 key alert" in widget_text(app.screen.query_one("ContextHeader"))

    drive(app, scenario)


def local_app(state_dir: Path) -> tuple[AhiApp, LocalEndpointRun]:
    local = LocalEndpointRun(state_dir)
    options = resolve(build_parser().parse_args(["--local", "--refresh", "0"]), ConsoleConfig(), {}, LOCAL_PENDING_URL)
    return AhiApp(options, local_endpoint=local), local


def medical_imaging(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "medical-imaging", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="t", aws_secret_access_key="t", config=Config(inject_host_prefix=False),
    )  # fmt: skip


def existing_state(path: Path) -> Path:
    """A state directory holding one data store (so nothing is seeded into it)."""
    with LocalEndpoint(EndpointConfig(state_dir=path, datastore_transition_seconds=0)) as endpoint:
        medical_imaging(endpoint.url).create_datastore(datastoreName="already-here", clientToken="t")
    return path


def test_local_endpoint_starts_behind_the_first_paint(tmp_path: Path, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    app, local = local_app(existing_state(tmp_path / "state"))
    assert not local.seed_wanted
    go = threading.Event()
    real_start = local.start
    monkeypatch.setattr(local, "start", lambda: go.wait(20) and real_start())

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, DatastoresScreen)
            assert "starting local endpoint…" in widget_text(screen.query_one("ContextHeader"))
            assert screen.query_one(ResourceTable).row_count == 0 and "refreshing…" in widget_text(screen.query_one("StatusLine"))
            go.set()
            await until(pilot, lambda: screen.query_one(ResourceTable).row_count, "the data stores listed")
            assert [row.resource.name for row in screen.query_one(ResourceTable).visible_rows] == ["already-here"]
            assert local.url is not None and local.url in widget_text(screen.query_one("ContextHeader"))
            assert "123456789012" in widget_text(screen.query_one("ContextHeader")), "the account is resolved once connected"

    try:
        asyncio.run(main())
    finally:
        go.set()
        local.stop()


def test_a_failed_local_start_is_shown_and_the_screen_stays_usable(tmp_path: Path, aws_env: dict[str, str]) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the state directory should be")
    app, local = local_app(blocked)

    async def scenario(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: "failed" in widget_text(app.screen.query_one("ContextHeader")), "the failed start shown")
        assert "local endpoint failed to start" in widget_text(app.screen.query_one("ContextHeader"))
        await pilot.press("r")
        await settle(pilot)
        panel = widget_text(app.screen.query_one("ErrorPanel"))
        assert "LocalEndpointUnavailable" in panel and "did not start" in panel
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpDialog"

    drive(app, scenario)


def test_a_seed_cut_short_is_done_again(tmp_path: Path) -> None:
    """The endpoint process seeds behind its URL; quitting before it finished leaves it to the next start."""
    state = tmp_path / "state"
    first = LocalEndpointRun(state)
    assert first.seed_wanted
    first.start()
    first.stop()
    assert (state / SEED_PENDING_FILE).exists(), "quit before the seed finished"

    again = LocalEndpointRun(state)
    assert again.seed_wanted
    again.start()
    with pytest.raises(RuntimeError, match="quit while the demo was being seeded"):
        again.start_demo(on_datastores=again.stop)  # quit again as soon as the data stores exist
    assert LocalEndpointRun(state).seed_wanted, "still cut short: its studies were never imported"
    with LocalEndpoint(EndpointConfig(state_dir=state)) as endpoint:
        names = {store["datastoreName"] for store in medical_imaging(endpoint.url).list_datastores()["datastoreSummaries"]}
    assert names == {"demo-imaging", "demo-aws-owned-key", "demo-disabled-key"}


def test_ctrl_c_quits_without_waiting_for_a_stuck_worker(seeded: dict[str, str], endpoint: LocalEndpoint) -> None:
    """A worker stuck in a call (a long retry, a seed waiting for its jobs) must not hold the exit."""
    options = resolve(build_parser().parse_args(["--local", "--refresh", "0"]), ConsoleConfig(), {}, endpoint.url)
    app = AhiApp(options)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def stuck() -> None:
        started.set()
        release.wait(20)
        finished.set()

    async def main() -> None:
        async with app.run_test() as pilot:
            app.run_worker(stuck, thread=True, group="stuck")
            assert await asyncio.to_thread(started.wait, 10)
            await pilot.press("ctrl+c")
            await pilot.pause()
            assert app.return_code == 0, "ctrl+c quits"

    try:
        asyncio.run(main())
        assert not finished.is_set(), "the exit waited for the stuck worker"
    finally:
        release.set()
