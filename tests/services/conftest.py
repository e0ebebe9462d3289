"""Service-layer fixtures: an AwsSession on the local endpoint (one attempt, so errors surface at once)."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from ahi.emulator.handlers import HANDLERS
from ahi.emulator.server import LocalEndpoint
from ahi.services.connection import Connection
from ahi.services.session import AwsSession, ConnectionSettings


@pytest.fixture
def aws(endpoint: LocalEndpoint, aws_env: dict[str, str]) -> AwsSession:
    return AwsSession(
        ConnectionSettings(region="us-east-1", endpoint_url=endpoint.url, local_credentials=True, max_attempts=1)
    )


@pytest.fixture
def hub(aws: AwsSession) -> Connection:
    return Connection(aws)


@pytest.fixture
def replace_handler(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Callable[..., Any]], None]:
    """Swap one operation's handler in the running endpoint (error injection)."""

    def replace(operation: str, handler: Callable[..., Any]) -> None:
        monkeypatch.setitem(HANDLERS, operation, handler)

    return replace
