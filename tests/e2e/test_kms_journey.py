"""In a real terminal (tmux): `ahi --local`, a data store whose key gets disabled, `:kms` flags it, `:q` quits.

The console runs its own in-process endpoint on a random port; the test reads that port off the
header (as a user would), makes the key and the data store there with boto3, then drives the
console with tmux keys and reads the screen with capture-pane, polling and never sleeping blind.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from tmux_harness import Tmux

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


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


def test_kms_screen_flags_the_disabled_key_then_quits(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    key_arn = disabled_key_store(tmux.endpoint_url())

    tmux.command("kms")
    screen = tmux.wait_for(
        lambda s: "journey-store" in s and "key alert" in s and "enable-key" in s, "the KMS screen with its explanation"
    )
    row = next(line for line in screen.splitlines() if "journey-store" in line)
    assert "unreadable" in row and "Disabled" in row and "alias/journey" in row
    assert "1 key alert" in screen and "Data stores › KMS keys" in screen
    assert "data unreadable: key is Disabled" in screen
    assert f"aws kms enable-key --key-id {key_arn}" in screen
    coloured = next(line for line in tmux.styled_screen().splitlines() if "journey-store" in line)
    assert "\x1b[" in coloured.split("unreadable")[0], "the flag is not styled"

    tmux.command("q")
    assert tmux.wait_for_exit() == 0
