"""What the console runs with: flags over environment over config file, each value with its source."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from ahi.tui.config import ConsoleConfig
from ahi.tui.graphics_detect import GraphicsMode

if TYPE_CHECKING:
    from ahi.services.session import ConnectionSettings

LOCAL_REGION = "us-east-1"
ENDPOINT_ENV = ("AWS_ENDPOINT_URL_MEDICAL_IMAGING", "AWS_ENDPOINT_URL")
REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION")
FLEET_ENV = "AHI_FLEET"


def build_parser(prog: str = "ahi") -> argparse.ArgumentParser:
    """The console's flags (shared by `ahi` and `ahi info`)."""
    parser = argparse.ArgumentParser(prog=prog, description="Keyboard-driven console for AWS HealthImaging.")
    parser.add_argument("--local", action="store_true", help="start the local endpoint (its own process, stopped with the console) and use it")
    parser.add_argument("--state-dir", type=Path, help="state directory of the local endpoint (with --local)")
    parser.add_argument("--endpoint-url", help="send requests to this endpoint instead of AWS")
    parser.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default chain)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's region)")
    parser.add_argument("--read-only", action="store_true", default=None, help="hide and refuse every change")
    parser.add_argument("--refresh", type=float, metavar="SECONDS", help="auto-refresh interval, 0 turns it off")
    parser.add_argument("--fleet", metavar="REGIONS", help="regions (PROFILE@REGION for another profile) that :fleet gathers, e.g. us-east-1,prod@eu-west-1")
    parser.add_argument(
        "--graphics",
        choices=[mode.value for mode in GraphicsMode],
        help="how frames are drawn: a graphics protocol at full resolution, or cells (half-cells); default auto, or AHI_GRAPHICS",
    )
    return parser


@dataclass(frozen=True)
class ConsoleOptions:
    """The resolved settings of one console run; `sources` says where each value came from."""

    connection: ConnectionSettings
    read_only: bool
    production: bool
    refresh_s: float
    theme: str
    keymap: Mapping[str, str]
    local: bool = False
    state_dir: Path | None = None
    #: The regions `:fleet` gathers without an argument (`REGION` or `PROFILE@REGION`, comma-separated).
    fleet: str = ""
    sources: Mapping[str, str] = field(default_factory=dict)
    #: The flags and environment this was resolved from (a profile switch resolves them again).
    flags: argparse.Namespace = field(default_factory=argparse.Namespace, repr=False)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)


def resolve(
    args: argparse.Namespace,
    config: ConsoleConfig,
    env: Mapping[str, str],
    local_endpoint_url: str | None = None,
) -> ConsoleOptions:
    """Combine flags, environment and config file; botocore still resolves what is left as None."""
    # Imported here: it loads boto3 (a third of a second), and `ahi --local` parses its flags first so its
    # endpoint process starts before that (docs/startup.md).
    from ahi.services.session import ConnectionSettings, EndpointOrigin

    sources: dict[str, str] = {}

    profile = args.profile or env.get("AWS_PROFILE") or None
    sources["profile"] = "flag --profile" if args.profile else "env AWS_PROFILE" if profile else "default credential chain"
    profile_config = config.profile(profile)
    profile_table = f"config [profiles.{profile or 'default'}]"

    region = args.region
    env_region = next((name for name in REGION_ENV if env.get(name)), None)
    if region:
        sources["region"] = "flag --region"
    elif env_region:
        sources["region"] = f"env {env_region}"
    elif profile_config.region:
        region, sources["region"] = profile_config.region, profile_table
    elif args.local:
        region, sources["region"] = LOCAL_REGION, "--local default"
    else:
        sources["region"] = "AWS shared config"

    endpoint = local_endpoint_url or args.endpoint_url
    env_endpoint = next((name for name in ENDPOINT_ENV if env.get(name)), None)
    if local_endpoint_url:
        origin, sources["endpoint"] = EndpointOrigin.LOCAL, EndpointOrigin.LOCAL.value
    elif args.endpoint_url:
        origin, sources["endpoint"] = EndpointOrigin.FLAG, EndpointOrigin.FLAG.value
    elif env_endpoint:
        origin, sources["endpoint"] = EndpointOrigin.ENVIRONMENT, f"env {env_endpoint}"
    elif profile_config.endpoint_url:
        origin, sources["endpoint"] = EndpointOrigin.CONFIG, profile_table
        endpoint = profile_config.endpoint_url
    else:
        origin, sources["endpoint"] = EndpointOrigin.AWS, EndpointOrigin.AWS.value

    if args.read_only:
        read_only, sources["read_only"] = True, "flag --read-only"
    elif profile_config.read_only:
        read_only, sources["read_only"] = True, profile_table
    else:
        read_only = config.read_only
        sources["read_only"] = "config read_only" if config.read_only else "default"

    if args.refresh is not None:
        refresh, sources["refresh"] = max(0.0, args.refresh), "flag --refresh"
    else:
        refresh = config.refresh
        sources["refresh"] = "config refresh" if config.path else "default"

    fleet_flag = getattr(args, "fleet", None)
    if fleet_flag:
        fleet, sources["fleet"] = fleet_flag, "flag --fleet"
    elif env.get(FLEET_ENV):
        fleet, sources["fleet"] = env[FLEET_ENV], f"env {FLEET_ENV}"
    else:
        fleet = config.fleet
        sources["fleet"] = "config fleet" if config.fleet else "default (none)"

    sources["production"] = profile_table if profile_config.production else "default"
    sources["theme"] = "config theme" if config.path else "default"
    connection = ConnectionSettings(
        profile=args.profile or None,
        region=region,
        endpoint_url=endpoint,
        endpoint_origin=origin,
        local_credentials=bool(local_endpoint_url),
    )
    return ConsoleOptions(
        connection=connection,
        read_only=read_only,
        production=profile_config.production,
        refresh_s=refresh,
        theme=config.theme,
        keymap=dict(config.keymap),
        local=bool(args.local),
        state_dir=args.state_dir,
        fleet=fleet,
        sources=sources,
        flags=args,
        env=dict(env),
    )


def resolve_profile(
    options: ConsoleOptions, config: ConsoleConfig, profile: str, local_endpoint_url: str | None = None
) -> ConsoleOptions:
    """The settings after a switch to `profile`: start-up's flags and environment resolved again, as if given `--profile`."""
    return resolve(replace_namespace(options.flags, profile=profile), config, options.env, local_endpoint_url)


def target_settings(
    options: ConsoleOptions, config: ConsoleConfig, current: ConnectionSettings, profile: str | None, region: str
) -> ConnectionSettings:
    """The settings of one fleet target: the current ones in `region`, or `profile`'s as a switch would resolve them.

    The local endpoint stays the endpoint (its data is partitioned by the signing region).
    """
    from ahi.services.session import EndpointOrigin

    if profile is None or profile == current.profile:
        return current.with_region(region)
    local_url = current.endpoint_url if current.endpoint_origin is EndpointOrigin.LOCAL else None
    settings = resolve_profile(options, config, profile, local_url).connection
    return replace(settings, region=region, max_attempts=current.max_attempts)


def replace_namespace(args: argparse.Namespace, **changes: object) -> argparse.Namespace:
    """A copy of parsed flags with some values changed."""
    return argparse.Namespace(**{**vars(args), **changes})
