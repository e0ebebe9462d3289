"""Where the console keeps its config, its view state and its log."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ahi"
CONFIG_ENV = "AHI_CONFIG"


def config_path() -> Path:
    """`$AHI_CONFIG`, else `~/.config/ahi/config.toml` (the platform's user config directory)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def state_dir() -> Path:
    """View state (each table's sort order) kept between runs, apart from the user's config."""
    return Path(platformdirs.user_state_dir(APP_NAME))


def log_path() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME)) / "ahi.log"


def endpoint_state_dir() -> Path:
    """Default state directory of `ahi --local` (the same default as `ahi local`)."""
    from ahi.emulator.config import default_state_dir

    return default_state_dir()
