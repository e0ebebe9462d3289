"""The graphics path through Textual's own output to a real pty: the bytes the terminal receives carry the frame."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from ahi.services.windowing import DisplaySettings, PixelModel, to_display
from pty_child import run_on_pty

CHILD = '''
import numpy as np
from textual.app import App
from ahi.services.frame_metadata import FrameLabels, FrameRequest
from ahi.services.frames import DecodedFrame, FrameKey, frame_crc32, verify_checksum
from ahi.services.windowing import PixelModel
from ahi.tui.graphics_detect import GraphicsChoice
from ahi.tui.graphics_protocol import GraphicsMode
from ahi.tui.widgets.frame_preview import FramePreview

pixels = np.add.outer(np.arange(40), np.arange(48)).astype(np.int16) * 20
key = FrameKey("imageset", "1", "frame")
request = FrameRequest(key, frame_crc32(pixels), PixelModel(), FrameLabels("P", "S", "I"), "sop", 40, 48)
decoded = DecodedFrame(key, pixels, verify_checksum(pixels, frame_crc32(pixels)))

class Viewer(App[None]):
    def compose(self):
        yield FramePreview(lambda _: decoded, [request], graphics=GraphicsChoice(GraphicsMode(MODE), TMUX, "test"))

Viewer().run()
'''
SIZE = (100, 30)


def frame_display() -> np.ndarray:
    pixels = np.add.outer(np.arange(40), np.arange(48)).astype(np.int16) * 20
    return to_display(pixels, PixelModel(), DisplaySettings())[0]


def run_viewer(tmp_path: Path, mode: str, done: bytes) -> bytes:
    """Run a viewer app on a pty sized 100x30 until `done` has been written, quit it, return all its output."""
    script = tmp_path / "viewer.py"
    script.write_text(CHILD.replace("MODE", repr(mode)).replace("TMUX", "False"))
    environ = {"TERM": "xterm-256color", "COLORTERM": "truecolor", "COLUMNS": str(SIZE[0]), "LINES": str(SIZE[1])}
    return run_on_pty([sys.executable, str(script)], [(done, b"\x11")], SIZE, environ)  # ctrl+q once the frame is out


def kitty_payload(output: str, start: int) -> np.ndarray:
    """The pixels of the Kitty transmission starting at `start`: chunks joined, base64 and zlib undone."""
    payload = ""
    for keys, chunk in re.findall(r"\x1b_G([^;\x1b]*);([^\x1b]*)\x1b\\", output[start:]):
        payload += chunk
        if "m=0" in keys:
            break
    return np.frombuffer(zlib.decompress(base64.standard_b64decode(payload)), dtype=np.uint8)


def test_kitty_sequence_reaches_the_terminal_whole_at_the_image_position(tmp_path: Path) -> None:
    output = run_viewer(tmp_path, "kitty", b"m=0;").decode("utf-8", "replace")
    start = output.index("\x1b_Ga=T")
    before = output[:start]
    move = re.search(r"\x1b\[(\d+);(\d+)H(?:\x1b_Ga=d,d=I,i=\d+,q=2\x1b\\)?$", before)
    assert move is not None, before[-80:]
    commands = re.findall(r"\x1b_G([^;\x1b]*);([^\x1b]*)\x1b\\", output[start:])
    raw = kitty_payload(output, start)
    display = frame_display()
    assert np.array_equal(raw.reshape(*display.shape, 3)[..., 0], display)
    keys = dict(item.split("=") for item in commands[0][0].split(","))
    rows, cols = int(keys["r"]), int(keys["c"])
    row, column = int(move.group(1)) - 1, int(move.group(2)) - 1
    assert row == 2 + (SIZE[1] - 3 - rows) // 2 and column == (SIZE[0] - cols) // 2


def test_sixel_reaches_the_terminal_after_the_rows_it_covers(tmp_path: Path) -> None:
    output = run_viewer(tmp_path, "sixel", b"\x1bP0;1;0q").decode("utf-8", "replace")
    start = output.index("\x1bP0;1;0q")
    end = output.index("\x1b\\", start)
    assert re.search(r'^\x1bP0;1;0q"1;1;48;40#', output[start:end]) is not None
    move = re.search(r"\x1b\[(\d+);(\d+)H$", output[:start])
    assert move is not None
    after = re.match(r"\x1b\[(\d+);(\d+)H", output[end + 2 :])
    assert after is not None and int(after.group(1)) > int(move.group(1))


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_through_tmux_passthrough_the_outer_terminal_gets_the_kitty_image_at_its_cell(tmp_path: Path) -> None:
    """A tmux client on a pty we play: with allow-passthrough on, tmux unwraps the sequence, cursor move included."""
    script, conf, go, sock = tmp_path / "viewer.py", tmp_path / "tmux.conf", tmp_path / "go", str(tmp_path / "sock")
    script.write_text(CHILD.replace("MODE", repr("kitty")).replace("TMUX", "True"))
    conf.write_text("set -g allow-passthrough on\nset -g status off\n")
    # The viewer waits for a client to be attached: tmux passes sequences through to attached clients only.
    command = f"env COLUMNS={SIZE[0]} LINES={SIZE[1]} sh -c 'while [ ! -e {go} ]; do sleep 0.05; done; exec {sys.executable} {script}'"
    tmux = ["tmux", "-S", sock]
    subprocess.run([*tmux, "-f", str(conf), "new-session", "-d", "-x", str(SIZE[0]), "-y", str(SIZE[1]), command], check=True)
    try:
        steps = [(b"\x1b[?1049h", go.touch), (b"m=0;", b"\x11")]
        output = run_on_pty([*tmux, "attach"], steps, SIZE, {"TERM": "xterm-256color"}).decode("utf-8", "replace")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
    assert "tmux;" not in output
    placed = re.search(r"\x1b\[(\d+);(\d+)H\x1b_Ga=d,d=I,i=\d+,q=2\x1b\\(\x1b_Ga=T,[^;]*)", output)
    assert placed is not None
    keys = dict(item.split("=") for item in placed.group(3)[4:].split(","))
    row, column = int(placed.group(1)) - 1, int(placed.group(2)) - 1
    assert row == 2 + (SIZE[1] - 3 - int(keys["r"])) // 2 and column == (SIZE[0] - int(keys["c"])) // 2
    display = frame_display()
    assert np.array_equal(kitty_payload(output, placed.start(3)).reshape(*display.shape, 3)[..., 0], display)
