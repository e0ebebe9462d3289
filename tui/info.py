"""`ahi info`: where config, state and log live, and what flags, environment and file resolved to."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from ahi.tui.config import ConfigError, ConsoleConfig
from ahi.tui.graphics_detect import GraphicsMode, decide_for_launch
from ahi.tui.paths import CONFIG_ENV, config_path, endpoint_state_dir, log_path, state_dir
from ahi.tui.settings import build_parser, resolve


def describe(options_lines: list[tuple[str, str, str]], out: TextIO) -> None:
    width = max(len(name) for name, _value, _source in options_lines)
    for name, value, source in options_lines:
        print(f"  {name:<{width}}  {value}   ({source})", file=out)


def main(argv: list[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser("ahi info").parse_args(argv)
    path = config_path()
    print("ahi info", file=out)
    print(f"  config file      {path}  ({'exists' if path.exists() else 'absent: defaults apply'}; "
          f"{'from $' + CONFIG_ENV if os.environ.get(CONFIG_ENV) else 'default location'})", file=out)
    print(f"  view state       {state_dir()}", file=out)
    print(f"  log file         {log_path()}", file=out)
    print(f"  local endpoint   {args.state_dir or endpoint_state_dir()}  (state and endpoint.log of `ahi --local`)", file=out)
    try:
        from ahi.tui.launch import load_checked_config

        config = load_checked_config()
    except ConfigError as exc:
        print(f"\nconfig error: {exc}", file=out)
        config = ConsoleConfig()
        status = 2
    else:
        status = 0
    options = resolve(args, config, os.environ, "(started at launch)" if args.local else None)
    sources = options.sources
    connection = options.connection
    print("\nresolved", file=out)
    describe(
        [
            ("profile", connection.profile or os.environ.get("AWS_PROFILE") or "(default chain)", sources["profile"]),
            ("region", connection.region or next((os.environ[n] for n in ("AWS_REGION", "AWS_DEFAULT_REGION") if os.environ.get(n)), "(from AWS config)"), sources["region"]),
            ("endpoint", connection.endpoint_url or next((os.environ[n] for n in ("AWS_ENDPOINT_URL_MEDICAL_IMAGING", "AWS_ENDPOINT_URL") if os.environ.get(n)), "AWS"), sources["endpoint"]),
            ("read-only", str(options.read_only).lower(), sources["read_only"]),
            ("production", str(options.production).lower(), sources["production"]),
            ("refresh", f"{options.refresh_s:g} s" if options.refresh_s else "off", sources["refresh"]),
            ("theme", options.theme, sources["theme"]),
            ("fleet", options.fleet or "(none)", sources["fleet"]),
            ("keymap", ", ".join(f"{k}={v}" for k, v in options.keymap.items()) or "(defaults)", "config [keymap]" if options.keymap else "default"),
            ("colour", _colour_description(), "env NO_COLOR / COLORTERM / TEXTUAL_COLOR_SYSTEM"),
            ("frames", _graphics_description(args.graphics), "flag --graphics / env AHI_GRAPHICS / this terminal"),
        ],
        out,
    )
    return status


def _graphics_description(flag: str | None) -> str:
    """What the frame preview would draw with in this terminal (docs/console.md#frames-through-a-graphics-protocol)."""
    try:
        choice = decide_for_launch(flag, os.environ)
    except ValueError as exc:
        return f"half-cells ({exc})"
    mode = "half-cells" if choice.mode is GraphicsMode.CELLS else choice.mode.value
    return f"{mode} ({choice.reason}{', through tmux' if choice.tmux else ''})"


def _colour_description() -> str:
    if os.environ.get("NO_COLOR") is not None:
        return "none (NO_COLOR)"
    forced = os.environ.get("TEXTUAL_COLOR_SYSTEM")
    if forced:
        return f"{forced} (forced)"
    return "truecolor" if os.environ.get("COLORTERM") in ("truecolor", "24bit") else "256 colours (set COLORTERM=truecolor)"
