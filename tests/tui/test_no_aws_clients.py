"""Screens and the console shell reach AWS only through the connection: no boto3 or botocore of their own.

Proven in the sources of `screens/` and `tui/`, and in a fresh interpreter: importing every screen
module does not load boto3, so no screen can make a client.
"""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import ahi.screens
import ahi.tui

FORBIDDEN = ("boto3", "botocore")
IMPORT = re.compile(r"^\s*(from|import)\s+(" + "|".join(FORBIDDEN) + r")\b", re.MULTILINE)


def package_sources(package: object) -> list[Path]:
    return sorted(Path(package.__file__).parent.rglob("*.py"))  # type: ignore[attr-defined]


def test_no_screen_or_console_source_imports_boto() -> None:
    sources = package_sources(ahi.screens) + package_sources(ahi.tui)
    assert any(path.name == "app.py" for path in sources) and any(path.name == "job_detail.py" for path in sources)
    offenders = [str(path) for path in sources if IMPORT.search(path.read_text())]
    assert offenders == []


def test_importing_every_screen_module_loads_no_boto3() -> None:
    folder = Path(ahi.screens.__file__).parent
    modules = [f"ahi.screens.{info.name}" for info in pkgutil.iter_modules([str(folder)])]
    assert "ahi.screens.job_detail" in modules and "ahi.screens.frame_viewer" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(','.join(sorted(m for m in sys.modules if m == 'boto3' or m.startswith('boto3.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "", f"screens pulled in: {done.stdout.strip()}"
