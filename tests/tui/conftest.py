"""Console fixtures: a seeded local endpoint with fixed IDs and a frozen clock, and an app factory.

Snapshots must not change between runs: data store IDs come from a counter (the endpoint's ID
generator is replaced), the endpoint's clock is frozen, the console's clock is frozen, and the
random port is masked in what the console shows.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any, Callable

import pytest
from console_harness import FROZEN, SHOWN_URL, AppFactory
from textual.widgets import Input

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.services.backoff import Backoff
from ahi.tui.app import AhiApp
from ahi.tui.clock import Clock
from ahi.tui.config import ConsoleConfig
from ahi.tui.format import Formatter
from ahi.tui.settings import build_parser, resolve

SEED = (
    ("cardiology-archive", {}, {"team": "cardiology"}),
    ("neuro-research", {"kms": "alias/neuro"}, {"team": "neuro", "env": "research"}),
    ("oncology-trials", {"losslessStorageFormat": "JPEG_2000_LOSSLESS"}, {}),
)


@pytest.fixture(autouse=True)
def steady_text_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A focused text field shows its cursor without blinking, so a snapshot does not depend on when it is taken.

    The cursor blinks off 0.5 s after focus; on a loaded machine a snapshot can be taken that late.
    """
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def endpoint_config(endpoint_config: EndpointConfig) -> EndpointConfig:
    endpoint_config.datastore_transition_seconds = 0
    return endpoint_config


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch, endpoint: LocalEndpoint) -> None:
    """Sequential data store IDs and a frozen endpoint clock, so screens look the same every run."""
    counter = itertools.count(1)
    monkeypatch.setattr("ahi.emulator.handlers.datastores.new_id", lambda: f"{next(counter):032x}")
    assert endpoint.runtime is not None
    endpoint.runtime.clock = lambda: FROZEN.timestamp()


@pytest.fixture
def seeded(fixed_ids: None, mi: Any, kms: Any) -> dict[str, str]:
    """Three data stores (one with a customer key) -> name: id."""
    key = kms.create_key(Description="neuro data")["KeyMetadata"]
    kms.create_alias(AliasName="alias/neuro", TargetKeyId=key["KeyId"])
    ids: dict[str, str] = {}
    for name, extra, tags in SEED:
        params: dict[str, Any] = {"datastoreName": name, "clientToken": name, "tags": tags}
        if extra.get("kms"):
            params["kmsKeyArn"] = key["Arn"]
        if extra.get("losslessStorageFormat"):
            params["losslessStorageFormat"] = extra["losslessStorageFormat"]
        ids[name] = mi.create_datastore(**params)["datastoreId"]
    return ids


@pytest.fixture
def make_app(endpoint: LocalEndpoint, aws_env: dict[str, str]) -> AppFactory:
    """An AhiApp on the endpoint: one attempt per call, no real sleeps, frozen clock, masked port."""

    def make(*flags: str, config: ConsoleConfig | None = None) -> AhiApp:
        config = config or ConsoleConfig()
        args = build_parser().parse_args(["--local", "--refresh", "0", *flags])
        options = resolve(args, config, {}, endpoint.url)
        options = replace(options, connection=replace(options.connection, max_attempts=1))
        return AhiApp(
            options,
            config=config,
            clock=Clock(frozen_at=FROZEN),
            formatter=Formatter(masks={endpoint.url: SHOWN_URL}),
            backoff=Backoff(sleep=lambda seconds: None),
        )

    return make




@pytest.fixture
def replace_handler(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Callable[..., Any]], None]:
    """Swap one operation's handler in the running endpoint (error injection)."""
    from ahi.emulator.handlers import HANDLERS

    def replace_one(operation: str, handler: Callable[..., Any]) -> None:
        monkeypatch.setitem(HANDLERS, operation, handler)

    return replace_one
