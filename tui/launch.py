"""`ahi [flags]`: resolve settings, optionally start the local endpoint, and run the console."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

from tui.config import ConfigError, ConsoleConfig, check_references, load_config
from tui.paths import config_path, endpoint_state_dir, log_path
from tui.settings import build_parser, resolve

SEED_MODULE = "emulator.demo.seed"


def load_checked_config() -> ConsoleConfig:
    """The config file, checked against the complete action registry and the known themes."""
    from textual.theme import BUILTIN_THEMES

    from tui.actions import REGISTRY
    from tui.navigation import load_screens

    import tui.call_log  # noqa: F401 - registers its actions

    load_screens()
    config = load_config(config_path())
    check_references(config, REGISTRY.ids(), set(BUILTIN_THEMES))
    return config


def demo_seeder(state_dir: Path) -> Callable[[str], None] | None:
    """C's `seed_demo(endpoint_url)` when the state dir is new and the seed module exists."""
    if (state_dir / "state.sqlite3").exists():
        return None
    try:
        module = importlib.import_module(SEED_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name is not None and SEED_MODULE.startswith(exc.name):
            return None
        raise
    return getattr(module, "seed_demo", None)


def setup_logging() -> None:
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def main(argv: list[str]) -> int:
    """Parse the console's flags and run it; 2 for bad flags or config, 0 after a clean exit."""
    args = build_parser().parse_args(argv)
    try:
        config = load_checked_config()
    except ConfigError as exc:
        print(f"ahi: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging()
    with ExitStack() as stack:
        local_url: str | None = None
        startup: Callable[[], None] | None = None
        if args.local:
            from emulator.config import EndpointConfig
            from emulator.server import LocalEndpoint

            state_dir = args.state_dir or endpoint_state_dir()
            seed = demo_seeder(state_dir)
            endpoint = LocalEndpoint(EndpointConfig(state_dir=state_dir)).start()
            stack.callback(endpoint.stop)
            local_url = endpoint.url
            if seed is not None:
                startup = lambda: seed(endpoint.url)  # noqa: E731
        options = resolve(args, config, os.environ, local_url)
        from tui.app import AhiApp

        app = AhiApp(options, config=config, startup=startup)
        app.run()
        return int(app.return_code or 0)
