"""Journeys share one tmux harness (tmux_harness.py); each test gets its own tmux server.

`state_dir` here is an existing, empty endpoint state, so `ahi --local` seeds no demo world into it;
a journey that needs data made beforehand overrides it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_endpoints import provide_empty_state
from tmux_harness import Tmux

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    session = Tmux(tmp_path)
    yield session
    session.kill()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    provide_empty_state(state)
    LocalEndpoint(EndpointConfig(state_dir=state)).start().stop()
    return state
