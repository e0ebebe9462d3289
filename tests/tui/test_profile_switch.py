"""A profile switch resolves flags, environment and config again, exactly as start-up does."""

from __future__ import annotations

from ahi.services.session import EndpointOrigin
from ahi.tui.config import ConsoleConfig, ProfileConfig
from ahi.tui.settings import build_parser, resolve, resolve_profile

CONFIG = ConsoleConfig(
    profiles={
        "lab": ProfileConfig(region="eu-west-1", endpoint_url="http://lab.example:8080", read_only=True),
        "prod": ProfileConfig(region="us-east-2", production=True),
    }
)


def start(*flags: str, env: dict[str, str] | None = None, local_url: str | None = None):  # type: ignore[no-untyped-def]
    return resolve(build_parser().parse_args(list(flags)), CONFIG, env or {}, local_url)


def test_a_switch_takes_the_new_profiles_endpoint_region_and_gates() -> None:
    options = resolve_profile(start(), CONFIG, "lab")
    assert options.connection.profile == "lab" and options.connection.region == "eu-west-1"
    assert options.connection.endpoint_url == "http://lab.example:8080"
    assert options.connection.endpoint_origin is EndpointOrigin.CONFIG
    assert options.read_only and not options.production
    back = resolve_profile(options, CONFIG, "prod")
    assert (back.connection.endpoint_url, back.connection.endpoint_origin) == (None, EndpointOrigin.AWS)
    assert back.production and not back.read_only and back.connection.region == "us-east-2"


def test_flags_still_win_after_a_switch() -> None:
    options = resolve_profile(start("--endpoint-url", "http://127.0.0.1:9", "--region", "ap-south-1"), CONFIG, "lab")
    assert options.connection.endpoint_url == "http://127.0.0.1:9"
    assert options.connection.endpoint_origin is EndpointOrigin.FLAG
    assert options.connection.region == "ap-south-1"


def test_the_environment_is_the_one_start_up_saw() -> None:
    options = resolve_profile(start(env={"AWS_ENDPOINT_URL": "http://proxy:1", "AWS_REGION": "sa-east-1"}), CONFIG, "lab")
    assert options.connection.endpoint_origin is EndpointOrigin.ENVIRONMENT
    assert options.connection.endpoint_url is None, "botocore reads the environment's endpoint itself"
    assert options.sources["region"] == "env AWS_REGION" and options.connection.region is None


def test_the_local_endpoint_stays_in_use_with_its_credentials() -> None:
    url = "http://127.0.0.1:4566"
    options = resolve_profile(start("--local", local_url=url), CONFIG, "prod", url)
    assert (options.connection.endpoint_url, options.connection.endpoint_origin) == (url, EndpointOrigin.LOCAL)
    assert options.connection.local_credentials and options.connection.profile == "prod"
