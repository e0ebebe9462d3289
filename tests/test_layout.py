"""The repository's layout: unique test module names (plain pytest imports them by basename), packages under `ahi`."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def test_test_module_names_are_unique_across_folders() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []


def test_every_package_folder_installs_under_ahi() -> None:
    """pyproject's explicit package list names every folder that has an __init__.py (a new one is not forgotten)."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        listed = set(tomllib.load(handle)["tool"]["setuptools"]["packages"])
    folders = {
        "ahi." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("tui", "screens", "services", "emulator")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert listed == folders


def test_code_imports_the_packages_by_their_installed_names() -> None:
    """`ahi.tui`, never bare `tui`: from the checkout both would import, as two copies of every module."""
    bare = re.compile(r"^\s*(from|import)\s+(tui|screens|services|emulator)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for top in ("tui", "screens", "services", "emulator", "tests", "bench")
        for path in (ROOT / top).rglob("*.py")
        if bare.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
