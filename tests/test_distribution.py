"""The wheel holds one top-level package, `ahi`, and `ahi --help` runs from a fresh venv that has only it and its deps."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: What a build reads; copied so the build leaves nothing in the checkout (build/, *.egg-info).
SOURCES = ("pyproject.toml", "README.md", "tui", "screens", "services", "emulator")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(source)],
        check=True, timeout=180, capture_output=True,
    )
    (built,) = out.glob("ahi-*.whl")
    return built


def test_the_wheels_only_top_level_package_is_ahi(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")}
        names = archive.namelist()
    assert tops == {"ahi"}
    assert "ahi/tui/app.tcss" in names and "ahi/emulator/store/migrations/__init__.py" in names
    assert "ahi/emulator/store/migrations/0001_datastores.sql" in names


def test_ahi_help_runs_from_a_fresh_venv_with_the_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip())
    # Dependencies come from the suite's own site-packages through a .pth (a path added that way is not a site
    # dir, so the editable install's finder stays off); the wheel is installed by the fresh venv's interpreter.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-warn-script-location", str(wheel)],
        check=True, timeout=180, capture_output=True,
    )
    done = subprocess.run(
        [str(venv / "bin" / "ahi"), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert "usage: ahi" in done.stdout
    where = subprocess.run(
        [str(python), "-c", "import ahi.tui.cli as m; print(m.__file__)"], cwd=tmp_path,
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()
    assert where.startswith(str(site)), where
