"""A shared allowance of decoded frame bytes, so concurrent files cannot together exceed one bound.

Each worker holds a frame's decoded size while it decodes, encodes and verifies that frame. Frames of
ordinary size never wait; two frames near the frame size limit take turns instead of adding up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ahi.emulator.dicom.limits import MAX_FRAME_BYTES


class ByteBudget:
    """A counting allowance of bytes; a request larger than the whole allowance waits for all of it."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._free = capacity
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, amount: int) -> Iterator[None]:
        """Hold `amount` bytes (at most the capacity) for the duration of the block."""
        amount = min(amount, self._capacity)
        with self._changed:
            self._changed.wait_for(lambda: self._free >= amount)
            self._free -= amount
        try:
            yield
        finally:
            with self._changed:
                self._free += amount
                self._changed.notify_all()


#: Decoded bytes in flight across every import worker of the process.
DECODE_BUDGET = ByteBudget(MAX_FRAME_BYTES)
