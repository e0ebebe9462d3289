"""In a real terminal (tmux): `ahi --local`, a data store whose key gets disabled, `:kms` flags it, `:q` quits.

The console runs its own in-process endpoint on a random port; the test reads that port off the
header (as a user would), makes the key and the data store there with boto3, then drives the
console with tmux keys and reads the screen with capture-pane, polling and never sleeping blind.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from test_tmux_journey import AHI, Tmux

from emulator.config import EndpointConfig
from emulator.server import LocalEndpoint

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

ENDPOINT = re.compile(r"http://127\.0\.0\.1:\d+")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """An existing, empty endpoint state: `ahi --local` seeds no demo world into it (that takes minutes)."""
    state = tmp_path / "state"
    LocalEndpoint(EndpointConfig(state_dir=state)).start().stop()
    return state


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    session = Tmux(tmp_path)
    yield session
    session.kill()


def disabled_key_store(endpoint_url: str) -> str:
    """On the console's own endpoint: a customer key, an ACTIVE data store with it, then the key disabled."""
    options: dict[str, Any] = {
        "region_name": "us-east-1",
        "endpoint_url": endpoint_url,
        "aws_access_key_id": "e2e",
        "aws_secret_access_key": "e2e",
        "config": Config(inject_host_prefix=False, retries={"mode": "standard", "total_max_attempts": 1}),
    }
    kms, mi = boto3.client("kms", **options), boto3.client("medical-imaging", **options)
    key = kms.create_key(Description="journey")["KeyMetadata"]
    kms.create_alias(AliasName="alias/journey", TargetKeyId=key["KeyId"])
    datastore_id = mi.create_datastore(datastoreName="journey-store", clientToken="journey", kmsKeyArn=key["Arn"])["datastoreId"]
    deadline = time.monotonic() + 10
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "the data store never became ACTIVE"
        time.sleep(0.1)
    kms.disable_key(KeyId=key["KeyId"])
    return str(key["Arn"])


def test_kms_screen_flags_the_disabled_key_then_quits(tmux: Tmux, state_dir: Path, tmp_path: Path) -> None:
    status_file = tmp_path / "exit-status"
    tmux.start(f"sh -c '{AHI} --local --state-dir {state_dir} --refresh 0; echo $? > {status_file}'")
    screen = tmux.wait_for(lambda s: "endpoint local" in s and ENDPOINT.search(s) is not None, "the console with its endpoint")
    match = ENDPOINT.search(screen)
    assert match is not None
    key_arn = disabled_key_store(match.group(0))

    tmux.keys(":")
    tmux.wait_for(lambda s: "Tab completes" in s, "the command line")
    tmux.keys("-l", "kms")
    tmux.keys("Enter")
    screen = tmux.wait_for(
        lambda s: "journey-store" in s and "key alert" in s and "enable-key" in s, "the KMS screen with its explanation"
    )
    row = next(line for line in screen.splitlines() if "journey-store" in line)
    assert "unreadable" in row and "Disabled" in row and "alias/journey" in row
    assert "1 key alert" in screen and "Data stores › KMS keys" in screen
    assert "data unreadable: key is Disabled" in screen
    assert f"aws kms enable-key --key-id {key_arn}" in screen
    coloured = next(line for line in tmux.run("capture-pane", "-p", "-e", "-t", "e2e").splitlines() if "journey-store" in line)
    assert "\x1b[" in coloured.split("unreadable")[0], "the flag is not styled"

    tmux.keys(":")
    tmux.wait_for(lambda s: "Tab completes" in s, "the command line")
    tmux.keys("-l", "q")
    tmux.keys("Enter")
    deadline = time.monotonic() + 15
    while not status_file.exists():
        assert time.monotonic() < deadline, f"ahi did not exit after :q; screen:\n{tmux.screen()}"
        time.sleep(0.2)
    assert status_file.read_text().strip() == "0"
