"""A local endpoint run for a block of tests (the shared fixtures' and a module's world), and the poll such tests use."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.emulator.store.db import Store

T = TypeVar("T")


def quick_config(state_dir: Path, **fields: Any) -> EndpointConfig:
    """A free port and 0.05 s data store and image set transitions, so tests wait little; `fields` override."""
    settings: dict[str, Any] = {
        "state_dir": state_dir,
        "port": 0,
        "datastore_transition_seconds": 0.05,
        "imageset_lock_seconds": 0.05,
    }
    return EndpointConfig(**{**settings, **fields})


#: The state file's name in a state directory (emulator/runtime.py opens it there).
STATE_FILE = "state.sqlite3"


@functools.cache
def _migrated_empty_state() -> Path:
    """A state file made by the endpoint's own store, every migration applied and nothing else; once per process."""
    folder = Path(tempfile.mkdtemp(prefix="ahi-empty-state-"))
    atexit.register(shutil.rmtree, folder, True)
    Store(folder / STATE_FILE).close()
    leftovers = sorted(path.name for path in folder.iterdir() if path.name != STATE_FILE)
    assert not leftovers, f"closing the store left {leftovers} beside the state file"
    return folder / STATE_FILE


def provide_empty_state(state_dir: Path) -> None:
    """Give a state directory that does not exist yet a copy of the migrated empty state file.

    Migrating a new file spends about 0.15 s waiting on the disk, at every start of every test's endpoint;
    a copy of the same file takes about 0.01 s (docs/testing.md#empty-state-files). A directory that exists
    is left as it is: it holds a state a test made on purpose.
    """
    if state_dir.exists():
        return
    state_dir.mkdir(mode=0o700, parents=True)
    shutil.copyfile(_migrated_empty_state(), state_dir / STATE_FILE)


@contextmanager
def running(config: EndpointConfig) -> Iterator[LocalEndpoint]:
    """The endpoint, started; on the way out moto's S3/KMS state is reset and the endpoint stopped.

    A new state directory starts from a copy of the migrated empty state file (provide_empty_state).
    moto keeps its state in memory for the whole process, so the next endpoint would otherwise find these buckets.
    """
    provide_empty_state(config.state_dir)
    server = LocalEndpoint(config).start()
    try:
        yield server
    finally:
        if server.runtime is not None:
            reset = urllib.request.Request(f"{server.url}/moto-api/reset", data=b"", method="POST")
            urllib.request.urlopen(reset, timeout=10).close()
        server.stop()


def local_clients(endpoint_url: str, *services: str) -> tuple[Any, ...]:
    """One boto3 client per named service on a local endpoint: dummy keys, no host prefix, one attempt."""
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {
        "region_name": "us-east-1", "endpoint_url": endpoint_url, "aws_access_key_id": "t", "aws_secret_access_key": "t",
        "config": Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
    }  # fmt: skip
    return tuple(boto3.client(service, **options) for service in services)  # type: ignore[call-overload]


def until(condition: Callable[[], T], what: str = "the condition", timeout: float = 30.0) -> T:
    """Poll `condition` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value
