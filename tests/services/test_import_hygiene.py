"""`services` never imports textual, rich, tui or screens (terminal rendering lives in tui/): proven in a fresh
interpreter and in the sources."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import ahi.services

FORBIDDEN = ("textual", "rich", "ahi.tui", "ahi.screens")
SERVICES_DIR = Path(ahi.services.__file__).parent


def service_modules() -> list[str]:
    return ["ahi.services", *(f"ahi.services.{info.name}" for info in pkgutil.iter_modules([str(SERVICES_DIR)]))]


def test_importing_every_service_module_loads_no_ui() -> None:
    modules = service_modules()
    assert "ahi.services.session" in modules and "ahi.services.call_log" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "", f"services pulled in: {done.stdout.strip()}"


def test_no_service_source_mentions_a_ui_import() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(" + "|".join(map(re.escape, FORBIDDEN)) + r")\b", re.MULTILINE)
    offenders = [path.name for path in SERVICES_DIR.glob("*.py") if pattern.search(path.read_text())]
    assert offenders == []
