"""The console's log file is private whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from ahi.tui.launch import setup_logging
from ahi.tui.paths import log_path


def test_log_file_and_folder_are_private_under_umask_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    previous = os.umask(0)
    try:
        setup_logging()
        logging.getLogger("ahi.test").info("written")
    finally:
        os.umask(previous)
        logging.basicConfig(handlers=[logging.NullHandler()], force=True)
    path = log_path()
    assert path.is_relative_to(tmp_path)
    assert "written" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
