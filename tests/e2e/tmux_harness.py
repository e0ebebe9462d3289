"""A real terminal for journeys: a private tmux server running `ahi`, read with capture-pane, driven with send-keys.

Every wait polls the screen (or the exit-status file) and never sleeps blind; a timeout fails with
what the screen showed. What the pane's program writes is also piped to a file (tmux pipe-pane), so a
wait captures the screen again when that file grows, not on a timer: a capture is a tmux client
process, and at 25 a second for every waiting journey those processes took CPU the suite needs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

AHI = Path(sys.executable).with_name("ahi")
#: The in-process endpoint's address as the header shows it (at 80 columns without `http://`).
ENDPOINT = re.compile(r"local (?:http://)?(127\.0\.0\.1:\d+)")
SESSION = "e2e"
#: Seconds between looks at the output file's size while waiting for a screen that matches (a stat, not a capture).
POLL_SECONDS = 0.02
#: Seconds after which a waiting journey captures again even though nothing new was written (a dead pane, say).
RECAPTURE_SECONDS = 0.25
#: Seconds a matching screen must stay unchanged to count as settled.
SETTLE_SECONDS = 0.1


class Tmux:
    """One private tmux server (its own socket) running one pane, with a clean environment under `home`."""

    def __init__(self, home: Path, size: tuple[int, int] = (120, 40), term: str = "xterm-256color", colorterm: str | None = None) -> None:
        self.socket = f"ahi-e2e-{uuid.uuid4().hex[:8]}"
        self.home = home
        self.status_file = home / "exit-status"
        #: Every byte the pane's program writes, appended by tmux (pipe-pane): it grows when the screen may have changed.
        self.output = home / "pane-output"
        self.size = size
        self.term = term
        #: COLORTERM in the pane (None: unset, as tmux's own `screen-256color` sessions have it).
        self.colorterm = colorterm

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        return done.stdout

    def start(self, command: str) -> None:
        """Run `command` in a pane of `size` (120x40 unless told); the pane stays after it exits, and OSC 52 reaches tmux's buffer."""
        env = {
            "HOME": str(self.home),
            "PATH": os.environ.get("PATH", ""),
            "TERM": self.term,
            "AHI_CONFIG": str(self.home / "no-config.toml"),
            "AWS_CONFIG_FILE": str(self.home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if self.colorterm is not None:
            env["COLORTERM"] = self.colorterm
        width, height = self.size
        exports = " ".join(f"{name}={value!r}" for name, value in env.items())
        self.run("-f", "/dev/null", "new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height), f"env -i {exports} {command}")
        self.run("pipe-pane", "-o", "-t", SESSION, f"cat >> {self.output}")
        self.run("set-option", "-g", "remain-on-exit", "on")
        self.run("set-option", "-g", "set-clipboard", "on")
        self.run("set-option", "-g", "status", "off")

    def start_ahi(self, *args: str, raw_output: Path | None = None) -> None:
        """Run `ahi ARGS`, writing its exit status to `status_file` when it ends.

        With `raw_output`, every byte ahi writes to the terminal is appended there (tmux pipe-pane), from
        its first byte: ahi starts only once the pipe is in place.
        """
        if raw_output is None:
            self.start(f"sh -c '{AHI} {' '.join(args)}; echo $? > {self.status_file}'")
            return
        gate = self.home / "pipe-ready"
        self.output = raw_output
        self.start(f"sh -c 'while [ ! -e {gate} ]; do sleep 0.02; done; {AHI} {' '.join(args)}; echo $? > {self.status_file}'")
        gate.touch()

    def click(self, column: int, row: int) -> None:
        """A left click at a 0-based cell, sent as the SGR mouse report a terminal sends to an app that asked for one."""
        for final in ("M", "m"):
            report = f"\x1b[<0;{column + 1};{row + 1}{final}"
            self.run("send-keys", "-t", SESSION, "-H", *(f"{ord(char):02x}" for char in report))

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", SESSION)

    def styled_screen(self) -> str:
        """The screen with its escape sequences (colours, bold)."""
        return self.run("capture-pane", "-p", "-e", "-t", SESSION)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        """Poll until condition holds on a settled screen: two captures SETTLE_SECONDS apart, identical.

        A capture can land while the console is halfway through writing an update (the new preview
        drawn, the old status line still there), so one matching capture is not yet the screen. Until
        one matches, the screen is captured again as soon as the program has written more (or after
        RECAPTURE_SECONDS), so a match is seen soon after it is drawn.
        """
        deadline = time.monotonic() + timeout
        previous: str | None = None
        while time.monotonic() < deadline:
            written = self._written()
            screen = self.screen()
            if condition(screen) and screen == previous:
                return screen
            previous = screen if condition(screen) else None
            if previous is not None:
                time.sleep(SETTLE_SECONDS)
            else:
                self._wait_for_output(written, min(deadline, time.monotonic() + RECAPTURE_SECONDS))
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")

    def _written(self) -> int:
        try:
            return self.output.stat().st_size
        except FileNotFoundError:
            return 0

    def _wait_for_output(self, written: int, until: float) -> None:
        """Return once the program has written past `written` bytes, or at `until`."""
        while time.monotonic() < until and self._written() == written:
            time.sleep(POLL_SECONDS)

    def endpoint_url(self) -> str:
        """Wait for the header to show the in-process endpoint, and return its URL."""
        screen = self.wait_for(lambda s: ENDPOINT.search(s) is not None, "the console with its endpoint")
        match = ENDPOINT.search(screen)
        assert match is not None
        return f"http://{match.group(1)}"

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", SESSION, *keys)

    def burst(self, *parts: str) -> None:
        """Every byte of `parts` in one write, as a paste or a fast typist delivers them ("\t" Tab, "\r" Enter,
        "\x05" ctrl+e, "\x15" ctrl+u)."""
        data = "".join(parts).encode()
        self.run("send-keys", "-t", SESSION, "-H", *(f"{byte:02x}" for byte in data))

    def paste(self, text: str) -> None:
        """Paste `text` as a terminal does: bracketed when the application asked for it."""
        self.run("set-buffer", "-b", "e2e-paste", "--", text)
        self.run("paste-buffer", "-p", "-d", "-b", "e2e-paste", "-t", SESSION)

    def command(self, text: str) -> None:
        """Type `:TEXT` Enter, once the command line is open."""
        self.keys(":")
        self.wait_for(lambda s: "Tab completes" in s, "the command line")
        self.keys("-l", text)
        self.keys("Enter")

    def wait_for_exit(self, timeout: float = 15) -> int:
        """The exit status of `ahi` started by `start_ahi`, once it has ended."""
        deadline = time.monotonic() + timeout
        while not self.status_file.exists() or not self.status_file.read_text().strip():
            assert time.monotonic() < deadline, f"ahi did not exit within {timeout:g} s; screen:\n{self.screen()}"
            time.sleep(0.05)
        return int(self.status_file.read_text())

    def pane(self, field: str) -> str:
        return self.run("display-message", "-p", "-t", SESSION, f"#{{{field}}}").strip()

    def kill(self) -> None:
        self.run("kill-server")
