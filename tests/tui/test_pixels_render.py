"""Half-cell rendering: the numpy path against rich-pixels cell for cell, and the 256-colour palette."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.console import Console
from rich.segment import Segment
from rich_pixels import HalfcellRenderer, Pixels

from ahi.emulator.demo.phantoms import shepp_logan_hu
from ahi.services.windowing import Window, resample, window_to_uint8
from ahi.tui.pixels_render import (
    ColourMode,
    Row,
    carrier_rgb,
    cell_colours,
    detect_colour_mode,
    grey_lut_256,
    grey_palette,
    halfcell_rows,
    rgb_to_palette_256,
    rich_downgrade_index,
    xterm_rgb,
)

_REFERENCE_CONSOLE = Console(file=io.StringIO(), width=1 << 16, color_system="truecolor", force_terminal=True)


def rich_pixels_rows(display: np.ndarray) -> list[Row]:
    """The same image through rich-pixels' HalfcellRenderer (`Pixels.from_image`), split into rows: the reference."""
    pixels = Pixels.from_image(Image.fromarray(display), renderer=HalfcellRenderer())
    lines = Segment.split_lines(_REFERENCE_CONSOLE.render(pixels))
    return [line for line in lines if line]


def phantom_display(size: int = 128) -> np.ndarray:
    hu = shepp_logan_hu(size, 0.0)
    return window_to_uint8(hu, Window(40, 400))


def test_fast_half_cells_equal_rich_pixels_cell_for_cell() -> None:
    small = resample(phantom_display(), (60, 60))
    assert cell_colours(halfcell_rows(small)) == cell_colours(rich_pixels_rows(small))
    rgb = np.stack([small, small[::-1], small.T], axis=-1)
    assert cell_colours(halfcell_rows(rgb)) == cell_colours(rich_pixels_rows(rgb))


def test_half_cells_put_the_lower_pixel_in_front_and_merge_equal_runs() -> None:
    image = np.array([[10, 10, 10], [20, 20, 30]], dtype=np.uint8)
    (row,) = halfcell_rows(image)
    assert [segment.text for segment in row] == ["▄▄", "▄"]
    assert row[0].style.color.triplet == (20, 20, 20) and row[0].style.bgcolor.triplet == (10, 10, 10)


def test_256_colour_grey_ramp_is_the_nearest_xterm_grey() -> None:
    lut = grey_lut_256()
    assert [int(lut[v]) for v in (0, 4, 5, 8, 13, 14, 128, 238, 246, 247, 255)] == [16, 16, 232, 232, 232, 233, 244, 255, 255, 231, 231]
    assert len(grey_palette(False)) == 26 and len(grey_palette(True)) == 30
    native = grey_lut_256(native_ansi=True)
    assert int(native[95]) == 59 and int(native[92]) == 59 and int(lut[95]) == 241
    for value in range(256):  # nothing is nearer than the chosen entry
        chosen = xterm_rgb(int(lut[value]))[0] if lut[value] >= 16 else 0
        assert all(abs(value - chosen) <= abs(value - xterm_rgb(index)[0]) for index in grey_palette(False))


def test_every_256_colour_carrier_survives_richs_downgrade_as_its_entry() -> None:
    for index in grey_palette(False):
        assert rich_downgrade_index(carrier_rgb(index)) == index
    assert all(carrier_rgb(index) is None for index in (59, 102, 145, 188))
    usable_cube = [index for index in range(16, 232) if carrier_rgb(index) is not None]
    assert len(usable_cube) == 212 and all(rich_downgrade_index(carrier_rgb(i)) == i for i in usable_cube)


def test_256_colour_rows_use_the_ramp_and_the_cube_for_colour() -> None:
    grey = np.array([[0, 128], [238, 255]], dtype=np.uint8)
    cells = cell_colours(halfcell_rows(grey, ColourMode.COLOURS_256))
    assert cells == [[("▄", carrier_rgb(255), carrier_rgb(16)), ("▄", carrier_rgb(231), carrier_rgb(244))]]
    colours = np.array([[[255, 0, 0], [128, 128, 128], [0, 135, 255], [250, 10, 12]]], dtype=np.uint8)
    assert rgb_to_palette_256(colours).tolist() == [[196, 244, 33, 196]]
    native_cells = cell_colours(halfcell_rows(np.array([[95], [95]], dtype=np.uint8), ColourMode.COLOURS_256, native_ansi=True))
    assert native_cells == [[("▄", 59, 59)]]


@pytest.mark.parametrize(
    ("environ", "mode"),
    [
        ({"COLORTERM": "truecolor", "TERM": "xterm-256color"}, ColourMode.TRUECOLOR),
        ({"COLORTERM": "24bit"}, ColourMode.TRUECOLOR),
        ({"TERM": "xterm-256color"}, ColourMode.COLOURS_256),
        ({"TERM": "screen"}, ColourMode.COLOURS_256),
        ({"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "truecolor"}, ColourMode.TRUECOLOR),
        ({"COLORTERM": "truecolor", "TEXTUAL_COLOR_SYSTEM": "256"}, ColourMode.COLOURS_256),
    ],
)
def test_colour_mode_follows_colorterm_like_textuals_console(environ: dict[str, str], mode: ColourMode) -> None:
    assert detect_colour_mode(environ) is mode


def test_rich_pixels_is_only_the_tests_reference() -> None:
    """The console renders with tui/pixels_render.py; rich-pixels is a test dependency, so no shipped module imports it."""
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"^\s*(from|import)\s+rich_pixels\b", re.MULTILINE)
    shipped = [path for top in ("tui", "screens", "services", "emulator") for path in (root / top).rglob("*.py")]
    assert len(shipped) > 50
    assert [str(path.relative_to(root)) for path in shipped if pattern.search(path.read_text(encoding="utf-8"))] == []
