"""Files of the persisted world written whole: written beside their place, then renamed over it.

A kill -9 loses nothing: every file is written and renamed before the write it saves is answered, and
the kernel keeps what a killed process wrote. Nothing is fsynced: the rest of the state directory (the
SQLite store at synchronous=NORMAL, the frame files) does not promise to survive a power cut either, and
an fsync would add milliseconds to every write (docs/local-world.md). Every file is 0600 and every
folder 0700 whatever the umask, like the rest of the state directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: The state directory's folder for the saved world.
FOLDER = "world"


def private_folder(folder: Path) -> Path:
    """`folder` and its missing parents, each 0700."""
    missing = [folder, *(parent for parent in folder.parents if not parent.is_dir())]
    for made in reversed([each for each in missing if not each.is_dir()]):
        made.mkdir(mode=0o700, exist_ok=True)
        os.chmod(made, 0o700)  # mkdir's mode is masked by the umask, and `parents=True` ignores it for parents
    return folder


def write_whole(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write `target` through `write` into a temporary file beside it and rename it into place."""
    temporary = target.with_name(f".{target.name}.part")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        write(handle)
    os.replace(temporary, target)


def remove_file(target: Path) -> None:
    """Remove a file if it is there."""
    target.unlink(missing_ok=True)


def drop_partial_files(folder: Path) -> None:
    """Remove what a kill left half-written (`.name.part`): its old content, if any, is still in place."""
    for leftover in folder.glob(".*.part"):
        leftover.unlink(missing_ok=True)
