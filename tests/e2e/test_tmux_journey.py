"""A real terminal: `ahi --local` in tmux shows the data stores, copies an ID over OSC 52, quits with `:q`
(at once, even while the demo world is being seeded), and exits when its terminal goes away."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from tmux_harness import AHI, Tmux

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.services.local_endpoint import SEED_PENDING_FILE

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

STORE = "e2e-journey-store"


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


def test_local_console_lists_copies_and_quits(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir))
    screen = tmux.wait_for(lambda s: STORE in s and "ACTIVE" in s, "the data store row")
    assert "Data stores" in screen and "local" in screen
    tmux.keys("c")
    tmux.wait_for(lambda s: "ID copied" in s, "the copy notification")
    buffer = tmux.run("show-buffer")
    assert len(buffer.strip()) == 32 and buffer.strip() in screen
    tmux.command("q")
    assert tmux.wait_for_exit() == 0


def test_quit_at_once_while_the_demo_world_is_seeded(tmux: Tmux, tmp_path: Path) -> None:
    """`make run` on a new machine: an empty state directory gets the demo world, and `:q` does not wait for it."""
    state = tmp_path / "new-state"
    tmux.start_ahi("--local", "--state-dir", str(state))
    tmux.wait_for(lambda s: "Seeding the demo world" in s, "the seed under way")
    assert (state / SEED_PENDING_FILE).exists(), "the seed had finished before the test could quit"
    tmux.command("q")
    assert tmux.wait_for_exit(timeout=10) == 0
    assert (state / SEED_PENDING_FILE).exists(), "a seed cut short is done again on the next start"


def test_demo_world_shows_its_imports_running_and_quit_does_not_wait_for_them(tmux: Tmux, tmp_path: Path) -> None:
    state = tmp_path / "new-state"
    tmux.start_ahi("--local", "--state-dir", str(state))
    tmux.wait_for(lambda s: "demo-imaging" in s and "imports are running" in s, "the demo data stores", timeout=120)
    assert not (state / SEED_PENDING_FILE).exists()
    tmux.command("jobs")
    screen = tmux.wait_for(lambda s: "demo-clean-studies" in s and "demo-mixed-batch" in s, "the demo import jobs")
    assert "Data stores › Import jobs" in screen
    tmux.command("q")
    assert tmux.wait_for_exit(timeout=10) == 0


@pytest.mark.parametrize("moment", ["at its first paint", "with its table shown"])
def test_console_exits_when_the_terminal_goes_away(tmux: Tmux, state_dir: Path, moment: str) -> None:
    """Textual's shutdown can hang on a vanished terminal (about one hangup in three); the process must end anyway."""
    tmux.start(f"{AHI} --local --state-dir {state_dir}")
    if moment == "at its first paint":
        tmux.wait_for(lambda s: "region" in s, "the header")
    else:
        tmux.wait_for(lambda s: STORE in s, "the data store row")
    pid = int(tmux.pane("pane_pid"))
    tmux.kill()
    deadline = time.monotonic() + 15
    while _alive(pid):
        assert time.monotonic() < deadline, "ahi kept running after its terminal went away"
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid`, read from /proc (procps may not be installed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def test_the_endpoint_process_ends_with_a_console_killed_outright(tmux: Tmux, state_dir: Path) -> None:
    """SIGKILL leaves no cleanup to run: the endpoint process sees its stdin close and stops by itself."""
    import signal

    tmux.start_ahi("--local", "--state-dir", str(state_dir))
    tmux.wait_for(lambda s: STORE in s, "the data store row")
    shell = int(tmux.pane("pane_pid"))
    [console] = _children(shell)
    [endpoint] = _children(console)
    os.kill(console, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while _alive(endpoint):
        assert time.monotonic() < deadline, "the endpoint process outlived its console"
        time.sleep(0.2)
