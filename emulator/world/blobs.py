"""S3 object bodies as files under `world/s3/bodies/`, one per moto object (FakeKey): written once, read on demand.

moto keeps a body in a spooled buffer (memory up to about 5 MB, then a temporary file) that nothing
survives. Once written here the object's buffer is swapped for a `BodyFile`, which opens the body
file for each read: a persisted object costs no memory and no descriptor, whatever its size.
A moto object's body never changes after it is made (a PUT makes a new object), so one file per
object is enough; a file is removed once no saved entry names it and moto has disposed of its object.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import uuid
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ahi.emulator.world.files import drop_partial_files, private_folder, remove_file, write_whole

if TYPE_CHECKING:
    from moto.s3.models import FakeKey

CHUNK_BYTES = 1 << 20


class BodyFile(io.RawIOBase):
    """A read-only stand-in for FakeKey's buffer: each read opens the body file at the current position."""

    def __init__(self, path: Path, size: int) -> None:
        super().__init__()
        self.path = path
        self.size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        with open(self.path, "rb") as handle:
            handle.seek(self._position)
            data = handle.read(-1 if size is None else size)
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)


class Bodies:
    """The body files of one persisted world, and which moto object each belongs to."""

    def __init__(self, folder: Path) -> None:
        self.folder = private_folder(folder)
        drop_partial_files(self.folder)
        self._lock = threading.Lock()
        #: id(FakeKey) -> (a weak reference to it, its body file's name).
        self._owners: dict[int, tuple[weakref.ref[Any], str]] = {}
        #: body file name -> a weak reference to its FakeKey.
        self._keys: dict[str, weakref.ref[Any]] = {}

    def name_of(self, key: FakeKey) -> str:
        """The body file of `key`, written (and `key` switched to reading it) the first time it is asked for."""
        with self._lock:
            owner = self._owners.get(id(key))
            if owner is not None and owner[0]() is key:
                return owner[1]
        name = uuid.uuid4().hex
        path = self.folder / name
        with key.lock:
            buffer = key._value_buffer
            buffer.seek(0)
            write_whole(path, lambda handle: shutil.copyfileobj(buffer, handle, CHUNK_BYTES))
            if not isinstance(buffer, BodyFile):
                key._value_buffer = BodyFile(path, int(key.contentsize))
                buffer.close()
        self._own(key, name)
        return name

    def adopt(self, key: FakeKey, name: str) -> None:
        """A loaded object reads its body from its file."""
        key._value_buffer = BodyFile(self.folder / name, int(key.contentsize))
        self._own(key, name)

    def _own(self, key: FakeKey, name: str) -> None:
        identity = id(key)

        def gone(_: object) -> None:
            self._owners.pop(identity, None)

        with self._lock:
            self._owners[identity] = (weakref.ref(key, gone), name)
            self._keys[name] = weakref.ref(key)

    def sweep(self, named: Mapping[str, int], candidates: set[str]) -> set[str]:
        """Remove the candidates no saved entry names (`named`: entries naming each) and whose object moto let go.

        moto disposes of an object it replaces or deletes (and keeps it in a list of every instance it
        made), so "let go" is disposed or gone. Returns the candidates to look at again later.
        """
        later = set()
        for name in candidates:
            if named.get(name, 0) > 0:
                continue
            reference = self._keys.get(name)
            key = reference() if reference is not None else None
            if key is not None and not getattr(key, "disposed", False):
                later.add(name)
                continue
            remove_file(self.folder / name)
            with self._lock:
                self._keys.pop(name, None)
                if key is not None:
                    self._owners.pop(id(key), None)
        return later

    def remove_unnamed(self, named: set[str]) -> None:
        """At load: remove files a kill left that no entry names (their entry was never written)."""
        for path in self.folder.iterdir():
            if path.name not in named:
                path.unlink(missing_ok=True)

    def clear(self) -> None:
        """Forget every body (moto was reset)."""
        with self._lock:
            self._owners.clear()
            self._keys.clear()
        for path in self.folder.iterdir():
            os.unlink(path)
