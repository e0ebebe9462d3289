"""Shared fixtures: a real local endpoint over HTTP and boto3 clients pointed at it.

- `endpoint_config`: an EndpointConfig on a fresh tmp state dir, port 0, short transition delays
  (datastore 0.05 s, image-set lock 0.05 s). Override fields in a test before using `endpoint`.
  `@pytest.mark.faults("SPEC", seed=N)` turns on fault injection (emulator/faults/spec.py; seed 0 by default).
- `endpoint`: a started `emulator.server.LocalEndpoint` (function scope), stopped afterwards; moto's
  in-memory S3/KMS state is reset at teardown. `endpoint.url`, `endpoint.port`, `endpoint.runtime`.
- `restart_endpoint`: call it to stop and start the endpoint on the same state dir (and port when it is
  free); returns the endpoint. For persistence tests; build new clients if `endpoint.url` changed.
- `aws_env`: environment as a shell user of `ahi local` would have it: dummy credentials, region
  us-east-1, `AWS_ENDPOINT_URL` = the endpoint, `AWS_DISABLE_HOST_PREFIX_INJECTION=true`, and no
  profile, config or credentials file leaking in from the machine. Use it for the AWS CLI and for
  code that builds its own clients (services/).
- `make_client(service, **kw)`: (uses `aws_env`) a boto3 client on the endpoint with dummy credentials, host-prefix
  injection off and one attempt (no retries; pass `config=Config(...)` to change, it is merged).
- `mi`, `s3`, `kms`, `sts`: ready clients made by `make_client`.
- `raw_request(method, path, body=b"", headers=None, sign=True, ...)`: one HTTP request exactly as given
  (raw, still-encoded path; optional SigV4 by botocore's signer for medical-imaging, with `secret`,
  `access_key`, `host` overrides) -> `RawResponse(status, headers, body, json)`. For what boto3 would
  refuse to send: bad JSON, wrong types, invalid values past client-side validation, tampered requests.
- a module with a module-scoped fixture (a world built once for its tests) runs on one xdist worker:
  `make test` uses `--dist loadgroup` and this conftest puts such a module's tests in one group.
- every boto3 session made in a test process (the tests' and the console's) shares one parsed copy of
  the service models (shared_models.py): building a client stays cheap.
- Pilot's idle check after each key and pause samples 5 ms windows instead of 20 ms (pilot_waits.py).
- after collection, what is loaded is frozen out of the cyclic garbage collector's sight and its first
  threshold is raised (docs/testing.md#garbage-collection).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint

from local_endpoints import quick_config, running
from pilot_waits import short_idle_windows
from raw_http import ACCESS_KEY, REGION, SECRET_KEY, RawResponse, send_raw
from shared_models import sessions_share_models

ClientFactory = Callable[..., Any]


#: Fixture scopes that outlive one test: a module using one is run by a single worker (see below).
SHARED_SCOPES = frozenset({"class", "module", "package"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep each module that builds a shared world (a module-scoped fixture) on one xdist worker.

    `make test` runs `--dist loadgroup`: tests go one by one to whichever worker is free, except
    those of one group. Split over two workers, such a module would build its world twice. Runs
    before xdist reads the groups (tryfirst).
    """
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        definitions = info.name2fixturedefs.values() if info is not None else ()
        if any(definition.scope in SHARED_SCOPES for chain in definitions for definition in chain):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


#: Allocations between young collections (CPython's default is 700); the older generations keep their ratios.
YOUNG_COLLECTION_THRESHOLD = 10_000


def pytest_collection_finish(session: pytest.Session) -> None:
    """Spend less of each worker's CPU in the cyclic garbage collector (docs/testing.md#garbage-collection).

    Every module, service model and Textual class is loaded by now and lives until the process ends:
    frozen, a full collection no longer walks them. With young collections every 10,000 allocations
    instead of 700, full collections come 14 times less often.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


@pytest.fixture(scope="session", autouse=True)
def shared_service_models() -> Iterator[None]:
    """Every boto3 session in this process parses the service models once (shared_models.py)."""
    with sessions_share_models():
        yield


@pytest.fixture(scope="session", autouse=True)
def pilot_idle_windows() -> Iterator[None]:
    """Pilot notices an idle app within 5 ms (pilot_waits.py)."""
    with short_idle_windows():
        yield


@pytest.fixture(autouse=True)
def private_state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's console state (remembered sorts, log) under its own folder, never the user's."""
    home = tmp_path_factory.mktemp("xdg-state")
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


@pytest.fixture
def endpoint_config(tmp_path: Path, request: pytest.FixtureRequest) -> EndpointConfig:
    faults = request.node.get_closest_marker("faults")
    return quick_config(
        tmp_path / "state",
        faults=faults.args[0] if faults else None,
        faults_seed=faults.kwargs.get("seed", 0) if faults else None,
    )


@pytest.fixture
def endpoint(endpoint_config: EndpointConfig) -> Iterator[LocalEndpoint]:
    with running(endpoint_config) as server:
        yield server


@pytest.fixture
def restart_endpoint(endpoint: LocalEndpoint) -> Callable[[], LocalEndpoint]:
    return endpoint.restart


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, endpoint: LocalEndpoint) -> dict[str, str]:
    """Set (and return) the variables `ahi local` prints; scrub the machine's own AWS settings."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL_MEDICAL_IMAGING",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ENDPOINT_URL_STS",
        "AWS_CA_BUNDLE",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    ):
        monkeypatch.delenv(name, raising=False)
    values = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def make_client(endpoint: LocalEndpoint, aws_env: dict[str, str]) -> ClientFactory:
    base = Config(inject_host_prefix=False, retries={"mode": "standard", "total_max_attempts": 1})

    def make(service: str, **kwargs: Any) -> Any:
        config = base.merge(kwargs.pop("config")) if "config" in kwargs else base
        options: dict[str, Any] = {
            "region_name": REGION,
            "endpoint_url": endpoint.url,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
        }
        options.update(kwargs)
        return boto3.session.Session().client(service, config=config, **options)

    return make


@pytest.fixture
def mi(make_client: ClientFactory) -> Any:
    return make_client("medical-imaging")


@pytest.fixture
def s3(make_client: ClientFactory) -> Any:
    return make_client("s3")


@pytest.fixture
def kms(make_client: ClientFactory) -> Any:
    return make_client("kms")


@pytest.fixture
def sts(make_client: ClientFactory) -> Any:
    return make_client("sts")


@pytest.fixture
def raw_request(endpoint: LocalEndpoint) -> Callable[..., RawResponse]:
    def send(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, **kwargs: Any) -> RawResponse:
        return send_raw(endpoint, method, path, body, headers, **kwargs)

    return send
