"""Instance metadata parked on disk between processing and commit, so a job holds little per file in memory.

A job groups instances only after every file is processed; with up to 5,000 files of up to the metadata
quota each, keeping their blocks in memory until then would not be bounded. Parked blocks are compact
JSON in one anonymous spooled file per job run, read back an image set at a time.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from ahi.emulator.dicom.source import spooled

Ref = tuple[int, int]


class MetadataSpill:
    """Append-only JSON values in a temporary file; `put` returns where one is, `get` reads it back."""

    def __init__(self) -> None:
        self._file = spooled()
        self._lock = threading.Lock()

    def put(self, value: Any) -> Ref:
        """Park a JSON value; its (offset, length)."""
        data = json.dumps(value, separators=(",", ":")).encode("utf-8")
        with self._lock:
            offset = self._file.seek(0, 2)
            self._file.write(data)
        return offset, len(data)

    def get(self, ref: Ref) -> Any:
        """The value parked at `ref`."""
        offset, length = ref
        with self._lock:
            self._file.seek(offset)
            data = self._file.read(length)
        return json.loads(data)

    def close(self) -> None:
        """Drop everything parked (the file is gone once closed)."""
        self._file.close()
