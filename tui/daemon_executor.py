"""An executor for the console's thread workers that never holds up its exit.

Textual runs thread workers in the event loop's default executor, and `asyncio.run` waits for
that executor's threads before it returns: one AWS call stuck in a retry, or the demo seed, would
keep `:q` waiting. Here every task gets its own daemon thread and shutdown returns at once; a call
still in flight when the console quits is abandoned (it only ever reads or has already been sent).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class DaemonThreadExecutor(ThreadPoolExecutor):
    """One daemon thread per task; `shutdown` never waits (asyncio insists on a ThreadPoolExecutor)."""

    def __init__(self, name: str = "ahi-worker") -> None:
        super().__init__(max_workers=1, thread_name_prefix=name)
        self._name = name

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever awaits the future, like ThreadPoolExecutor
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=run, name=self._name, daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Return at once: the threads are daemons and die with the process."""
