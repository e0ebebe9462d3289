"""A real terminal: `ahi --local` in tmux shows the data stores, copies an ID over OSC 52, quits with `:q`,
and exits when its terminal goes away."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

import boto3
import pytest
from botocore.config import Config

from emulator.config import EndpointConfig
from emulator.server import LocalEndpoint

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

AHI = Path(sys.executable).with_name("ahi")
STORE = "e2e-journey-store"


class Tmux:
    """One private tmux server (its own socket) running one pane."""

    def __init__(self, home: Path) -> None:
        self.socket = f"ahi-e2e-{uuid.uuid4().hex[:8]}"
        self.home = home

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        return done.stdout

    def start(self, command: str) -> None:
        env = {
            "HOME": str(self.home),
            "PATH": os.environ.get("PATH", ""),
            "TERM": "xterm-256color",
            "AHI_CONFIG": str(self.home / "no-config.toml"),
            "AWS_CONFIG_FILE": str(self.home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        exports = " ".join(f"{name}={value!r}" for name, value in env.items())
        self.run("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40",
                 f"env -i {exports} {command}")
        self.run("set-option", "-g", "remain-on-exit", "on")
        self.run("set-option", "-g", "set-clipboard", "on")
        self.run("set-option", "-g", "status", "off")

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e")

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "e2e", *keys)

    def pane(self, field: str) -> str:
        return self.run("display-message", "-p", "-t", "e2e", f"#{{{field}}}").strip()

    def kill(self) -> None:
        self.run("kill-server")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """An endpoint state with one data store made beforehand (so no demo data is seeded)."""
    state = tmp_path / "state"
    with LocalEndpoint(EndpointConfig(state_dir=state, datastore_transition_seconds=0)) as endpoint:
        client = boto3.client(
            "medical-imaging", endpoint_url=endpoint.url, region_name="us-east-1",
            aws_access_key_id="e2e", aws_secret_access_key="e2e", config=Config(inject_host_prefix=False),
        )
        client.create_datastore(datastoreName=STORE, clientToken="e2e")
    return state


@pytest.fixture
def tmux(tmp_path: Path) -> Tmux:
    session = Tmux(tmp_path)
    yield session
    session.kill()


def test_local_console_lists_copies_and_quits(tmux: Tmux, state_dir: Path, tmp_path: Path) -> None:
    status_file = tmp_path / "exit-status"
    tmux.start(f"sh -c '{AHI} --local --state-dir {state_dir}; echo $? > {status_file}'")
    screen = tmux.wait_for(lambda s: STORE in s and "ACTIVE" in s, "the data store row")
    assert "Data stores" in screen and "local" in screen
    tmux.keys("c")
    tmux.wait_for(lambda s: "ID copied" in s, "the copy notification")
    buffer = tmux.run("show-buffer")
    assert len(buffer.strip()) == 32 and buffer.strip() in screen
    tmux.keys(":")
    tmux.wait_for(lambda s: "Tab completes" in s, "the command line")
    tmux.keys("-l", "q")
    tmux.keys("Enter")
    deadline = time.monotonic() + 15
    while not status_file.exists():
        assert time.monotonic() < deadline, f"ahi did not exit after :q; screen:\n{tmux.screen()}"
        time.sleep(0.2)
    assert status_file.read_text().strip() == "0"


def test_console_exits_when_the_terminal_goes_away(tmux: Tmux, state_dir: Path) -> None:
    tmux.start(f"{AHI} --local --state-dir {state_dir}")
    tmux.wait_for(lambda s: STORE in s, "the data store row")
    pid = int(tmux.pane("pane_pid"))
    tmux.kill()
    deadline = time.monotonic() + 15
    while _alive(pid):
        assert time.monotonic() < deadline, "ahi kept running after its terminal went away"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")
