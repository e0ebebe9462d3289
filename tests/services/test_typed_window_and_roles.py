"""Typed W/L parsing, and the per-data-store import role file (unreadable means nothing remembered; 0600)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ahi.services.windowing import Window, parse_typed_window
from ahi.tui.import_roles import ImportRoles


@pytest.mark.parametrize("text", ["400 40", "400/40", "400,40", " W400 L40 ", "l40 w400", "W 400 L 40"])
def test_width_then_level_in_any_common_spelling(text: str) -> None:
    assert parse_typed_window(text) == Window(40, 400, "typed")


def test_negative_and_decimal_levels() -> None:
    assert parse_typed_window("1500 -600") == Window(-600, 1500, "typed")
    assert parse_typed_window("80.5 40.5") == Window(40.5, 80.5, "typed")


@pytest.mark.parametrize(
    ("text", "rule"),
    [("wide", "width and a level"), ("400", "width and a level"), ("0.5 40", "at least 1"), ("nan 40", "finite"), ("400 abc", "as numbers")],
)
def test_refusals_name_the_rule(text: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        parse_typed_window(text)


def test_roles_are_kept_per_data_store_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "import-roles.json"
    roles = ImportRoles(path)
    roles.remember("a" * 32, "arn:aws:iam::123456789012:role/A")
    roles.remember("b" * 32, "arn:aws:iam::123456789012:role/B")
    assert ImportRoles(path).role_for("a" * 32) == "arn:aws:iam::123456789012:role/A"
    assert ImportRoles(path).role_for("c" * 32) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", ["not json", json.dumps([1, 2]), json.dumps({"roles": {"x": 5}})])
def test_an_unreadable_roles_file_means_nothing_remembered(tmp_path: Path, content: str) -> None:
    path = tmp_path / "import-roles.json"
    path.write_text(content)
    assert ImportRoles(path).role_for("x") is None
