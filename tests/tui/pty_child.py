"""Run a program on a pty we play the terminal for: act when patterns show, read to the end."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import termios
from collections.abc import Callable, Mapping, Sequence

#: (pattern, what to do once it has been written): bytes are typed, a callable is called.
Step = tuple[bytes, bytes | Callable[[], None]]


def run_on_pty(
    argv: list[str],
    steps: Sequence[Step] = (),
    size: tuple[int, int] = (80, 24),
    environ: Mapping[str, str] | None = None,
) -> bytes:
    """`argv` on a pty of `size` (cols, rows), taking `steps` in order as their patterns appear; all it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty, sized before it asks
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        os.environ.update(environ or {})
        os.execvp(argv[0], argv)
    output = b""
    pending = list(steps)
    try:
        while True:
            if not select.select([fd], [], [], 60)[0]:
                raise AssertionError(f"child silent; last output {output[-200:]!r}")
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the pty
                break
            if not chunk:
                break
            output += chunk
            while pending and pending[0][0] in output:
                action = pending.pop(0)[1]
                if callable(action):
                    action()
                else:
                    os.write(fd, action)
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    return output
