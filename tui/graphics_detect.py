"""Which graphics protocol the terminal speaks: the environment first, then one bounded DA1 query.

Decided once, before Textual takes over the terminal (tui/launch.py), and kept for the session; a
console that never decided (tests, Pilot, stdout not a terminal) draws half-cells. The rules and
their order are in docs/console.md#frames-through-a-graphics-protocol.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

ENV_VAR = "AHI_GRAPHICS"
DA1_QUERY = "\x1b[c"
DA1_TIMEOUT = 0.25
#: TERM_PROGRAM values of terminals that speak the Kitty graphics protocol, and iTerm2's inline images.
_KITTY_PROGRAMS = {"ghostty", "wezterm"}
_ITERM2_PROGRAMS = {"iterm.app", "wezterm", "mintty"}


class GraphicsMode(str, Enum):
    """How the preview draws pixels: a graphics protocol, or half-cell characters."""

    AUTO = "auto"
    KITTY = "kitty"
    ITERM2 = "iterm2"
    SIXEL = "sixel"
    CELLS = "cells"


@dataclass(frozen=True)
class GraphicsChoice:
    """The mode drawn with, whether sequences go through tmux passthrough, and why (for `ahi info` and the log)."""

    mode: GraphicsMode
    tmux: bool = False
    reason: str = ""
    #: Inside tmux: the outer terminal's (column, row) of the pane's top-left cell, for positioning
    #: inside the passthrough (tmux does not move the outer cursor to the pane's before passing through).
    pane_origin: tuple[int, int] = (0, 0)


CELLS = GraphicsChoice(GraphicsMode.CELLS, False, "not decided (half-cells)")
_chosen: GraphicsChoice = CELLS


def chosen() -> GraphicsChoice:
    """What this console draws frames with."""
    return _chosen


def choose(choice: GraphicsChoice) -> None:
    """Record the session's choice (launch does this once; tests set it directly)."""
    global _chosen
    _chosen = choice


def parse_mode(text: str | None) -> GraphicsMode:
    """auto | kitty | iterm2 | sixel | cells (any case); ValueError naming the choices otherwise."""
    value = (text or "auto").strip().lower()
    try:
        return GraphicsMode(value)
    except ValueError:
        choices = " | ".join(mode.value for mode in GraphicsMode)
        raise ValueError(f"graphics must be one of {choices}, got {value!r}") from None


def from_environment(environ: Mapping[str, str]) -> GraphicsMode | None:
    """The protocol the environment names, or None when it does not say (then ask the terminal).

    Inside tmux TERM and TERM_PROGRAM describe tmux, so only variables the outer terminal set and
    tmux passed on (KITTY_WINDOW_ID, LC_TERMINAL, which iTerm2 sends over SSH) count there.
    """
    term = environ.get("TERM", "").lower()
    program = environ.get("TERM_PROGRAM", "").lower()
    lc_terminal = environ.get("LC_TERMINAL", "").lower()
    if environ.get("KITTY_WINDOW_ID") or term == "xterm-kitty" or program in _KITTY_PROGRAMS or "ghostty" in term:
        return GraphicsMode.KITTY
    if lc_terminal == "iterm2" or program in _ITERM2_PROGRAMS:
        return GraphicsMode.ITERM2
    if term in ("dumb", "linux") or not term:
        return GraphicsMode.CELLS
    return None


def sixel_in_da1(reply: str) -> bool:
    """True when a primary device attributes reply (`ESC [ ? 62 ; 4 ; 22 c`) lists 4, Sixel graphics."""
    start, end = reply.find("\x1b[?"), reply.find("c", reply.find("\x1b[?") + 3)
    if start < 0 or end < 0:
        return False
    return "4" in reply[start + 3 : end].split(";")


def tmux_passthrough(run: Callable[[list[str]], str] | None = None) -> bool:
    """True when tmux forwards DCS passthrough sequences (`allow-passthrough` on or all)."""
    runner = run or _run
    try:
        value = runner(["tmux", "show", "-gv", "allow-passthrough"]).strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return value in ("on", "all")


def tmux_pane_origin(environ: Mapping[str, str], run: Callable[[list[str]], str] | None = None) -> tuple[int, int]:
    """(column, row) of this pane's top-left cell in the outer terminal; (0, 0) when tmux does not say.

    A status line at the top moves every pane down one row.
    """
    target = ["-t", environ["TMUX_PANE"]] if environ.get("TMUX_PANE") else []
    try:
        text = (run or _run)(["tmux", "display", "-p", *target, "#{pane_left} #{pane_top} #{status} #{status-position}"])
        left, top, status, position = text.split()
        return int(left), int(top) + (1 if status == "on" and position == "top" else 0)
    except (OSError, subprocess.SubprocessError, ValueError):
        return 0, 0


def decide(
    requested: GraphicsMode,
    environ: Mapping[str, str],
    *,
    is_terminal: bool,
    query: Callable[[], str] | None = None,
    passthrough: Callable[[], bool] | None = None,
    pane_origin: Callable[[], tuple[int, int]] | None = None,
) -> GraphicsChoice:
    """The session's choice: a forced mode as asked; auto from the environment, else from a DA1 reply.

    Inside tmux, Kitty and iTerm2 are used only when tmux passes them through; otherwise half-cells, said why.
    """
    in_tmux = bool(environ.get("TMUX"))

    def origin() -> tuple[int, int]:
        if not in_tmux:
            return 0, 0
        return pane_origin() if pane_origin is not None else tmux_pane_origin(environ)

    if requested is GraphicsMode.CELLS:
        return GraphicsChoice(GraphicsMode.CELLS, False, "half-cells asked for")
    if requested is not GraphicsMode.AUTO:
        return GraphicsChoice(requested, in_tmux, f"{requested.value} asked for", origin())
    if not is_terminal:
        return GraphicsChoice(GraphicsMode.CELLS, False, "not a terminal")
    mode = from_environment(environ)
    if mode is None:
        # Inside tmux the reply is tmux's own: a tmux built with Sixel draws it itself, unwrapped.
        reply = (query or query_device_attributes)()
        if sixel_in_da1(reply):
            return GraphicsChoice(GraphicsMode.SIXEL, False, "device attributes list Sixel")
        return GraphicsChoice(GraphicsMode.CELLS, False, "device attributes without Sixel" if reply else "no device attributes reply")
    if mode is GraphicsMode.CELLS:
        return GraphicsChoice(mode, False, "environment")
    if in_tmux and not (passthrough or tmux_passthrough)():
        return GraphicsChoice(GraphicsMode.CELLS, False, f"{mode.value} inside tmux without allow-passthrough")
    return GraphicsChoice(mode, in_tmux, "environment", origin())


def query_device_attributes(timeout: float = DA1_TIMEOUT) -> str:
    """Ask the terminal for its primary device attributes; '' when it does not answer within `timeout`.

    Uses /dev/tty in raw mode and restores it; never blocks longer than the timeout and reads only
    up to the reply's final `c`, so nothing is left for the console to read as keys.
    """
    try:
        import termios
        import tty
    except ImportError:
        return ""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return ""
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        os.close(fd)
        return ""
    reply = b""
    try:
        tty.setraw(fd)
        os.write(fd, DA1_QUERY.encode())
        deadline = time.monotonic() + timeout
        while not reply.endswith(b"c"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            chunk = os.read(fd, 64)
            if not chunk:
                break
            reply += chunk
    except OSError:
        pass
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        os.close(fd)
    return reply.decode("ascii", "replace")


def cell_pixels(default: tuple[int, int] = (10, 20)) -> tuple[int, int]:
    """(width, height) of one cell in pixels from the terminal's window size, or `default` when it says 0."""
    try:
        import fcntl
        import struct
        import termios

        packed = fcntl.ioctl(sys.__stdout__.fileno() if sys.__stdout__ else 1, termios.TIOCGWINSZ, b"\0" * 8)
        rows, cols, x_pixels, y_pixels = struct.unpack("HHHH", packed)
    except (OSError, ImportError, ValueError, AttributeError):
        return default
    if not (rows and cols and x_pixels and y_pixels):
        return default
    return max(1, x_pixels // cols), max(1, y_pixels // rows)


def decide_for_launch(flag: str | None, environ: Mapping[str, str]) -> GraphicsChoice:
    """The choice for a console about to start: --graphics, else AHI_GRAPHICS, else auto."""
    requested = parse_mode(flag or environ.get(ENV_VAR))
    stdout = sys.__stdout__
    is_terminal = bool(stdout and stdout.isatty() and sys.__stdin__ and sys.__stdin__.isatty())
    return decide(requested, environ, is_terminal=is_terminal)


def _run(command: list[str]) -> str:
    if not shutil.which(command[0]):
        raise FileNotFoundError(command[0])
    return subprocess.run(command, capture_output=True, text=True, timeout=2, check=False).stdout
