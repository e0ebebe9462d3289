"""Run a Python script on a pty we play the terminal for: answer once when a pattern shows, read to the end."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import sys
import termios
from collections.abc import Mapping


def run_on_pty(
    args: list[str],
    when: bytes,
    answer: bytes | None,
    size: tuple[int, int] = (80, 24),
    environ: Mapping[str, str] | None = None,
) -> bytes:
    """`python *args` on a pty of `size` (cols, rows); `answer` is typed once `when` has been written; all it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty, sized before it asks
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        os.environ.update(environ or {})
        os.execv(sys.executable, [sys.executable, *args])
    output = b""
    answered = answer is None
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
            if not answered and when in output:
                os.write(fd, answer or b"")
                answered = True
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    return output
