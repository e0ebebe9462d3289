"""The console's TOML config file: schema, validation with file/line/key errors, and profiles.

A wrong key or type stops the console before it starts, so it never runs half-configured.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_REFRESH_S = 15.0
DEFAULT_THEME = "textual-dark"


class ConfigError(Exception):
    """A config file problem, naming the file, the line and the key."""

    def __init__(self, path: Path, line: int | None, key: str, problem: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {key}: {problem}")
        self.path, self.line, self.key, self.problem = path, line, key, problem


@dataclass(frozen=True)
class ProfileConfig:
    """Per-AWS-profile settings (a `[profiles.NAME]` table)."""

    region: str | None = None
    endpoint_url: str | None = None
    read_only: bool = False
    production: bool = False


@dataclass(frozen=True)
class ConsoleConfig:
    """Everything the file can set; defaults when the file is absent."""

    path: Path | None = None
    refresh: float = DEFAULT_REFRESH_S
    theme: str = DEFAULT_THEME
    read_only: bool = False
    #: Regions `:fleet` gathers (`REGION` or `PROFILE@REGION`, comma-separated; docs/fleet.md).
    fleet: str = ""
    keymap: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, ProfileConfig] = field(default_factory=dict)
    #: Saved image set searches by name (`[searches.NAME]`, the search form's fields).
    searches: dict[str, dict[str, Any]] = field(default_factory=dict)

    def profile(self, name: str | None) -> ProfileConfig:
        return self.profiles.get(name or "default", ProfileConfig())


#: Top-level keys and their types; tables are described by the nested schemas below.
TOP_LEVEL: dict[str, type | tuple[type, ...]] = {"refresh": (int, float), "theme": str, "read_only": bool, "fleet": str}
PROFILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "region": str,
    "endpoint_url": str,
    "read_only": bool,
    "production": bool,
}
TABLES = ("keymap", "profiles", "searches")

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def _split_dotted(text: str) -> list[str]:
    parts = re.findall(r""""((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+)""", text)
    return [a or b or c for a, b, c in parts]


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """(table..., key) -> 1-based line of its definition, and table headers -> their line."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = tuple(_split_dotted(header.group(1)))
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault(table + tuple(_split_dotted(key.group(1))), number)
    return lines


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {int: "a number", float: "a number", str: "a string", bool: "true or false", dict: "a table", list: "a list"}
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(dict.fromkeys(names[t] for t in types))


class _Checker:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = key_lines(text)

    def fail(self, keys: tuple[str, ...], problem: str) -> ConfigError:
        line = None
        for length in range(len(keys), 0, -1):
            line = self.lines.get(keys[:length])
            if line:
                break
        return ConfigError(self.path, line, ".".join(keys), problem)

    def typed(self, keys: tuple[str, ...], value: Any, expected: type | tuple[type, ...]) -> Any:
        types = expected if isinstance(expected, tuple) else (expected,)
        if isinstance(value, bool) and bool not in types:
            raise self.fail(keys, f"must be {_type_name(expected)}, not {value!r}")
        if not isinstance(value, types):
            raise self.fail(keys, f"must be {_type_name(expected)}, not {type(value).__name__} {value!r}")
        return value


def parse_config(text: str, path: Path) -> ConsoleConfig:
    """Validate and convert a config file's text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ConfigError(path, int(match.group(1)) if match else None, "(syntax)", str(exc)) from exc
    check = _Checker(path, text)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in TOP_LEVEL:
            values[key] = check.typed((key,), value, TOP_LEVEL[key])
        elif key not in TABLES:
            known = ", ".join([*TOP_LEVEL, *TABLES])
            raise check.fail((key,), f"unknown key (known: {known})")
    if "refresh" in values and values["refresh"] < 0:
        raise check.fail(("refresh",), "must be 0 (off) or a positive number of seconds")
    if "fleet" in values:
        from ahi.services.fleet import parse_fleet

        try:
            parse_fleet(values["fleet"])
        except ValueError as exc:
            raise check.fail(("fleet",), str(exc)) from None
    keymap = data.get("keymap", {})
    check.typed(("keymap",), keymap, dict)
    for action_id, keys in keymap.items():
        check.typed(("keymap", action_id), keys, str)
    profiles: dict[str, ProfileConfig] = {}
    check.typed(("profiles",), data.get("profiles", {}), dict)
    for name, table in data.get("profiles", {}).items():
        check.typed(("profiles", name), table, dict)
        for key, value in table.items():
            if key not in PROFILE_KEYS:
                raise check.fail(("profiles", name, key), f"unknown key (known: {', '.join(PROFILE_KEYS)})")
            check.typed(("profiles", name, key), value, PROFILE_KEYS[key])
        profiles[name] = ProfileConfig(**table)
    searches = _saved_searches(check, data.get("searches", {}))
    return ConsoleConfig(path=path, keymap=dict(keymap), profiles=profiles, searches=searches, **values)


def _saved_searches(check: _Checker, tables: Any) -> dict[str, dict[str, Any]]:
    """`[searches.NAME]` tables: each key one of the search form's fields, typed as the form types it."""
    from ahi.services.search_criteria import field_names

    check.typed(("searches",), tables, dict)
    known = field_names()
    searches: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        check.typed(("searches", name), table, dict)
        for key, value in table.items():
            if key not in known:
                raise check.fail(("searches", name, key), f"unknown key (known: {', '.join(known)})")
            check.typed(("searches", name, key), value, bool if key == "primary_only" else str)
        searches[name] = dict(table)
    return searches


def load_config(path: Path) -> ConsoleConfig:
    """The config at `path`, or the defaults when there is no file."""
    if not path.exists():
        return ConsoleConfig(path=None)
    return parse_config(path.read_text(encoding="utf-8"), path)


def check_references(config: ConsoleConfig, action_ids: set[str], themes: set[str]) -> None:
    """Keymap action ids and the theme name must exist; checked once the registry is complete."""
    path = config.path or Path("config.toml")
    lines = key_lines(path.read_text(encoding="utf-8")) if config.path else {}
    for action_id in config.keymap:
        if action_id not in action_ids:
            raise ConfigError(path, lines.get(("keymap", action_id)), f"keymap.{action_id}", "no action has this id (see `?` in the console)")
    if config.theme not in themes:
        raise ConfigError(path, lines.get(("theme",)), "theme", f"unknown theme {config.theme!r} (known: {', '.join(sorted(themes))})")
