"""Noticing that the terminal went away (SSH drop, closed tmux pane), so the console can exit cleanly."""

from __future__ import annotations

import os
import select
import sys


def terminal_gone(fd: int | None = None) -> bool:
    """True when stdin was hung up, closed, or is no longer a terminal."""
    if fd is None:
        stdin = sys.__stdin__
        if stdin is None or stdin.closed:
            return True
        fd = stdin.fileno()
    try:
        if not os.isatty(fd):
            return True
        poller = select.poll()
        poller.register(fd, select.POLLHUP | select.POLLERR | select.POLLNVAL)
        return any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _fd, mask in poller.poll(0))
    except (OSError, ValueError):
        return True
