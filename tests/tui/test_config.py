"""Config file: schema errors name file, line and key; the console refuses to start; `ahi info`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ahi.tui import info, launch
from ahi.tui.config import ConfigError, check_references, load_config, parse_config

GOOD = """\
refresh = 30
theme = "textual-light"

[keymap]
"datastores.delete" = "ctrl+x"

[profiles.prod]
region = "eu-west-1"
read_only = true
production = true
"""


def test_a_good_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.refresh == 30 and config.theme == "textual-light"
    assert config.keymap == {"datastores.delete": "ctrl+x"}
    prod = config.profile("prod")
    assert (prod.region, prod.read_only, prod.production) == ("eu-west-1", True, True)
    assert config.profile("other").read_only is False


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        ('refresh = 30\nrefrsh = 5\n', 2, "refrsh", "unknown key"),
        ('refresh = "fast"\n', 1, "refresh", "must be a number"),
        ('read_only = 1\n', 1, "read_only", "must be true or false"),
        ('[profiles.prod]\nregion = "x"\nreadonly = true\n', 3, "profiles.prod.readonly", "unknown key"),
        ('[profiles.prod]\nproduction = "yes"\n', 2, "profiles.prod.production", "must be true or false"),
        ('[keymap]\n"screen.filter" = 5\n', 2, "keymap.screen.filter", "must be a string"),
        ('refresh = -1\n', 1, "refresh", "0 (off)"),
        ('refresh = \n', 1, "(syntax)", "Invalid"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, line: int, key: str, problem: str) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path)
    error = caught.value
    assert (error.path, error.line, error.key) == (path, line, key)
    assert problem in error.problem
    assert str(error).startswith(f"{path}:{line}: {key}:")


def test_unknown_action_id_and_theme_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "textual-dark"\n\n[keymap]\n"datastores.destroy" = "x"\n')
    with pytest.raises(ConfigError) as caught:
        check_references(load_config(path), {"datastores.delete"}, {"textual-dark"})
    assert (caught.value.line, caught.value.key) == (4, "keymap.datastores.destroy")
    path.write_text('theme = "neon"\n')
    with pytest.raises(ConfigError) as caught:
        check_references(load_config(path), set(), {"textual-dark"})
    assert (caught.value.line, caught.value.key) == (1, "theme")


def test_console_does_not_start_with_a_bad_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keymap]\n"no.such.action" = "x"\n')
    monkeypatch.setenv("AHI_CONFIG", str(path))
    monkeypatch.setattr("ahi.tui.app.AhiApp.run", lambda self: pytest.fail("the console started"))
    assert launch.main([]) == 2
    assert f"{path}:2: keymap.no.such.action" in capsys.readouterr().err


def test_info_reports_paths_and_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    monkeypatch.setenv("AHI_CONFIG", str(path))
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")
    out = io.StringIO()
    assert info.main(["--refresh", "5"], out) == 0
    text = out.getvalue()
    assert f"config file      {path}  (exists; from $AHI_CONFIG)" in text
    assert "log file" in text and "view state" in text and "local endpoint" in text
    assert "prod   (env AWS_PROFILE)" in text
    assert "eu-west-1   (config [profiles.prod])" in text
    assert "http://127.0.0.1:4599   (env AWS_ENDPOINT_URL)" in text
    assert "true   (config [profiles.prod])" in text
    assert "5 s   (flag --refresh)" in text
