"""Terminal graphics encoders: a windowed 8-bit frame as Kitty, iTerm2 or Sixel escape sequences.

The sequences carry only pixels and numbers this module computes; no text from a frame's metadata
ever reaches them (docs/console.md#frames-through-a-graphics-protocol). Written here rather than
taken from textual-image because that library queries the terminal when it is imported, with no
timeout and before Textual owns the terminal, which is unsafe over SSH and in tests.
"""

from __future__ import annotations

import base64
import io
import re
import zlib
from dataclasses import dataclass
import numpy as np
from PIL import Image

from ahi.tui.graphics_detect import GraphicsMode

ESC = "\x1b"
ST = ESC + "\\"
#: Kitty's limit on the base64 payload of one escape sequence.
KITTY_CHUNK = 4096
#: Colour registers a Sixel image uses at most (what VT340-descended terminals and xterm offer).
SIXEL_REGISTERS = 256
#: Grey levels a Sixel image uses: 64 keeps the encoder's per-register work a quarter of 256's.
SIXEL_GREYS = 64
__all__ = ["GraphicsImage", "GraphicsMode", "encode", "kitty_delete", "tmux_wrap"]
_SIXEL_RUN = re.compile(rb"(.)\1{3,}")


@dataclass(frozen=True)
class GraphicsImage:
    """An encoded frame: the sequence to write at the image's top-left cell, the cells it covers, the pixels sent."""

    mode: GraphicsMode
    sequence: str
    cols: int
    rows: int
    width: int
    height: int


def as_rgb(display: np.ndarray) -> np.ndarray:
    """h x w x 3 uint8 from 8-bit grey (h x w) or RGB display pixels."""
    if display.ndim == 2:
        return np.repeat(display[..., None], 3, axis=2)
    return np.ascontiguousarray(display[..., :3], dtype=np.uint8)


def kitty_sequence(display: np.ndarray, cols: int, rows: int, image_id: int) -> str:
    """Kitty graphics protocol: transmit and place raw RGB (f=24, zlib o=z) over cols x rows cells.

    q=2 keeps the terminal from answering (a reply would arrive as keystrokes), C=1 leaves the cursor
    where it was, and the base64 payload is split into chunks of 4096 with m=1 on all but the last.
    """
    rgb = as_rgb(display)
    height, width = rgb.shape[:2]
    payload = base64.standard_b64encode(zlib.compress(rgb.tobytes(), 1)).decode("ascii")
    chunks = [payload[start : start + KITTY_CHUNK] for start in range(0, len(payload), KITTY_CHUNK)] or [""]
    first = f"a=T,f=24,o=z,s={width},v={height},c={cols},r={rows},i={image_id},q=2,C=1"
    parts = []
    for index, chunk in enumerate(chunks):
        more = 1 if index < len(chunks) - 1 else 0
        keys = f"{first},m={more}" if index == 0 else f"m={more}"
        parts.append(f"{ESC}_G{keys};{chunk}{ST}")
    return "".join(parts)


def kitty_delete(image_id: int) -> str:
    """Delete the image `image_id` and free its data (d=I), quietly."""
    return f"{ESC}_Ga=d,d=I,i={image_id},q=2{ST}"


def iterm2_sequence(display: np.ndarray, cols: int, rows: int) -> str:
    """iTerm2 inline image (OSC 1337 File=): a PNG shown over cols x rows cells."""
    buffer = io.BytesIO()
    Image.fromarray(display).save(buffer, format="PNG", compress_level=1)
    data = buffer.getvalue()
    encoded = base64.standard_b64encode(data).decode("ascii")
    return f"{ESC}]1337;File=inline=1;size={len(data)};width={cols};height={rows};preserveAspectRatio=1:{encoded}\a"


def sixel_sequence(display: np.ndarray) -> str:
    """Sixel (DCS q): one pixel per dot, at most 256 colour registers, runs compressed with `!`.

    Greys are quantised to 64 levels (one register each that is present); colour frames are quantised
    by Pillow to 256 registers.
    """
    indices, palette = _sixel_palette(display)
    height, width = indices.shape
    registers = "".join(
        f"#{number};2;{_percent(red)};{_percent(green)};{_percent(blue)}" for number, (red, green, blue) in enumerate(palette)
    )
    bands = []
    columns = np.arange(width)
    for top in range(0, height, 6):
        band = indices[top : top + 6]
        codes = np.zeros((len(palette), width), dtype=np.uint8)
        for bit, row in enumerate(band):
            codes[row, columns] |= np.uint8(1 << bit)
        codes += 63
        lines = []
        for number in np.flatnonzero((codes != 63).any(axis=1)).tolist():
            text = codes[number].tobytes().rstrip(b"?")
            lines.append(b"#%d" % number + _SIXEL_RUN.sub(_sixel_run, text))
        bands.append(b"$".join(lines))
    return f"{ESC}P0;1;0q\"1;1;{width};{height}{registers}{b'-'.join(bands).decode('ascii')}{ST}"


def tmux_wrap(sequence: str) -> str:
    """The sequence for tmux to pass through to the outer terminal: DCS tmux; with every ESC doubled."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def encode(
    display: np.ndarray,
    mode: GraphicsMode,
    cols: int,
    rows: int,
    cell_pixels: tuple[int, int],
    image_id: int = 1,
) -> GraphicsImage:
    """Encode display pixels (already windowed) to fill at most cols x rows cells, keeping the aspect ratio.

    Kitty and iTerm2 get the frame at its own resolution and let the terminal scale it into the cells;
    Sixel has no scaling, so the frame is drawn one pixel per dot, shrunk (never enlarged) to fit the
    cells' pixel size (`cell_pixels` = w, h).
    """
    height, width = display.shape[:2]
    cell_width, cell_height = cell_pixels
    scale = min(cols * cell_width / width, rows * cell_height / height)
    shown_w, shown_h = max(1, round(width * scale)), max(1, round(height * scale))
    image_cols = min(cols, max(1, -(-shown_w // cell_width)))
    image_rows = min(rows, max(1, -(-shown_h // cell_height)))
    if mode is GraphicsMode.SIXEL:
        scale = min(scale, 1.0)
        shown_w, shown_h = max(1, round(width * scale)), max(1, round(height * scale))
        image_cols, image_rows = min(cols, -(-shown_w // cell_width)), min(rows, -(-shown_h // cell_height))
    if mode is GraphicsMode.KITTY:
        sequence = kitty_sequence(display, image_cols, image_rows, image_id)
    elif mode is GraphicsMode.ITERM2:
        sequence = iterm2_sequence(display, image_cols, image_rows)
    elif mode is GraphicsMode.SIXEL:
        if (shown_w, shown_h) != (width, height):
            display = np.asarray(Image.fromarray(display).resize((shown_w, shown_h), Image.Resampling.LANCZOS))
        sequence = sixel_sequence(display)
        width, height = shown_w, shown_h
    else:
        raise ValueError(f"not a graphics protocol: {mode.value}")
    return GraphicsImage(mode, sequence, image_cols, image_rows, width, height)


def _sixel_run(run: re.Match[bytes]) -> bytes:
    return b"!%d%s" % (len(run.group(0)), run.group(1))


def _percent(value: int) -> int:
    return round(value * 100 / 255)


def _sixel_palette(display: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """(register index per pixel, register colours): greys exactly, colour through Pillow's quantiser."""
    if display.ndim == 2:
        step = 256 // SIXEL_GREYS
        quantised = display // step
        levels = np.flatnonzero(np.bincount(quantised.ravel(), minlength=SIXEL_GREYS))
        register = np.zeros(SIXEL_GREYS, dtype=np.intp)
        register[levels] = np.arange(len(levels))
        greys = [int(level) * step * 255 // (256 - step) for level in levels.tolist()]
        return register[quantised], [(grey, grey, grey) for grey in greys]
    quantised = Image.fromarray(as_rgb(display)).quantize(SIXEL_REGISTERS, dither=Image.Dither.NONE)
    raw = quantised.getpalette() or []
    indices = np.asarray(quantised, dtype=np.intp)
    count = int(indices.max()) + 1
    return indices, [(raw[3 * i], raw[3 * i + 1], raw[3 * i + 2]) for i in range(count)]
