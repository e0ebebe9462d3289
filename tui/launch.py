"""`ahi [flags]`: resolve settings, optionally start the local endpoint, and run the console."""

from __future__ import annotations

import logging
import os
import sys

from ahi.tui.config import ConfigError, ConsoleConfig, check_references, load_config
from ahi.tui.graphics_detect import choose, decide_for_launch
from ahi.tui.paths import config_path, endpoint_state_dir, log_path
from ahi.tui.settings import build_parser, resolve

#: What the connection holds until the local endpoint has its port (workers wait for that).
LOCAL_PENDING_URL = "http://127.0.0.1"


def load_checked_config() -> ConsoleConfig:
    """The config file, its keymap checked against the complete action registry and its theme against the known ones.

    Only a keymap needs every screen module imported (their actions are registered there);
    without one, start-up skips that cost.
    """
    from textual.theme import BUILTIN_THEMES

    from ahi.tui.actions import REGISTRY

    config = load_config(config_path())
    if config.keymap:
        from ahi.tui.navigation import load_screens

        import ahi.tui.call_log  # noqa: F401 - registers its actions

        load_screens()
    check_references(config, REGISTRY.ids(), set(BUILTIN_THEMES))
    return config


def setup_logging() -> None:
    """Log to the file `ahi info` names, created 0600."""
    path = log_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Private like the endpoint's state: it names resources and profiles, whatever the umask.
        os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def main(argv: list[str]) -> int:
    """Parse the console's flags and run it; 2 for bad flags or config, 0 after a clean exit."""
    args = build_parser().parse_args(argv)
    try:
        graphics = decide_for_launch(args.graphics, os.environ)
    except ValueError as exc:
        print(f"ahi: {exc}", file=sys.stderr)
        return 2
    from ahi.services.local_endpoint import LocalEndpointRun

    local = LocalEndpointRun(args.state_dir or endpoint_state_dir()) if args.local else None
    if local is not None:
        local.spawn()  # it starts on the other core while the console loads
    try:
        config = load_checked_config()
    except ConfigError as exc:
        print(f"ahi: config error: {exc}", file=sys.stderr)
        if local is not None:
            local.stop()
        return 2
    setup_logging()
    choose(graphics)
    logging.getLogger(__name__).info("frames drawn with %s (%s)", graphics.mode.value, graphics.reason)
    from ahi.tui.app import AhiApp

    options = resolve(args, config, os.environ, LOCAL_PENDING_URL if local is not None else None)
    app = AhiApp(options, config=config, local_endpoint=local)
    try:
        app.run()
    finally:
        app.exit_watchdog.disarm()
        if local is not None:
            local.stop()
    return int(app.return_code or 0)
