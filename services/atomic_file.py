"""Files written whole or not at all: into a temporary file beside the target, then renamed over it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO


@contextmanager
def atomic_text_file(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[TextIO]:
    """A text handle whose content replaces `path` only when the block ends without an error.

    `overwrite=False`: the content lands only where no file is (FileExistsError otherwise, checked when
    it lands, so a file that appeared while it was written is never replaced).
    """
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
        if overwrite:
            os.replace(temp_name, target)
        else:
            _claim(temp_name, target)
    finally:
        Path(temp_name).unlink(missing_ok=True)


@dataclass
class NewFile:
    """The handle being written, and (once the block ends) the path the content landed at."""

    handle: BinaryIO
    path: Path


@contextmanager
def new_binary_file(path: str | os.PathLike[str], attempts: int = 1000) -> Iterator[NewFile]:
    """A binary handle whose content lands at `path`, or `name-1.ext`, `name-2.ext`… when taken: never over a file.

    The content is linked into place under the first free name (a link fails on an existing name, so two
    writers never take the same one) only when the block ends without an error.
    """
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            written = NewFile(out, target)
            yield written
        for n in range(attempts):
            candidate = target if n == 0 else target.with_name(f"{target.stem}-{n}{target.suffix}")
            try:
                _claim(temp_name, candidate)
            except FileExistsError:
                continue
            written.path = candidate
            break
        else:
            raise FileExistsError(f"no free name beside {target} after {attempts} tries")
    finally:
        Path(temp_name).unlink(missing_ok=True)


def _claim(temp_name: str, candidate: Path) -> None:
    """Give the temporary file `candidate`'s name unless that name exists (FileExistsError).

    Where hard links are not supported, the name is reserved by an exclusive create and then replaced.
    """
    try:
        os.link(temp_name, candidate)
    except FileExistsError:
        raise
    except OSError:
        os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        os.replace(temp_name, candidate)
