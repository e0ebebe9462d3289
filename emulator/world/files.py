"""Files of the persisted world written whole and synced: a kill -9 leaves the old content or the new, never half.

Every file is 0600 and every folder 0700 whatever the umask, like the rest of the state directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def private_folder(folder: Path) -> Path:
    """`folder` and its missing parents, each 0700."""
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
    return folder


def sync_folder(folder: Path) -> None:
    """fsync a folder, so a rename or unlink in it survives a power cut as well as a kill."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_durably(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write `target` through `write` into a temporary file beside it, fsync it and rename it into place."""
    temporary = target.with_name(f".{target.name}.part")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    sync_folder(target.parent)


def remove_durably(target: Path) -> None:
    """Remove a file (if there) and sync its folder."""
    try:
        target.unlink()
    except FileNotFoundError:
        return
    sync_folder(target.parent)


def drop_partial_files(folder: Path) -> None:
    """Remove what a kill left half-written (`.name.part`): its old content, if any, is still in place."""
    for leftover in folder.glob(".*.part"):
        leftover.unlink(missing_ok=True)
