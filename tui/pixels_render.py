"""Half-cell terminal rendering of 8-bit display pixels, in truecolor or a 256-colour palette.

Each cell is one column by two pixel rows: `▄` with the lower pixel as foreground and the upper as
background (rich-pixels' HalfcellRenderer layout). `halfcell_rows` builds the same cells straight from
numpy, merging runs of equal cells, because rich-pixels does one `getpixel` and one `Style.parse` per
cell (bench/frames.py measures both; the tests compare the two cell for cell).

256-colour output: Textual's ANSIToTruecolor filter (on unless the app uses native ANSI colour) turns
8-bit colours into RGB, and Rich's downgrade then maps greys by lightness onto 16, 232-255 and 231
only. So in that pipeline each palette entry is emitted as an RGB *carrier* that Rich's downgrade maps
back to exactly that entry, and the cube's mid greys (59, 102, 145, 188) are used only when 8-bit
colours reach the terminal unchanged (`native_ansi=True`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

import numpy as np
from rich.color import Color, ColorSystem
from rich.color_triplet import ColorTriplet
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

from ahi.services.windowing import DisplaySettings, PixelModel, Window, resample_to_cells, to_display

LOWER_HALF = "▄"
Row = list[Segment]
_CUBE_LEVELS = (0, 95, 135, 175, 215, 255)
_GREY_RAMP = tuple(range(232, 256))
_CUBE_GREYS = (16, 59, 102, 145, 188, 231)
_CUBE_MID_GREYS = (59, 102, 145, 188)
_STYLE_CACHE_LIMIT = 1 << 17


class ColourMode(str, Enum):
    """How pixels are coloured: 24-bit RGB, or the nearest entries of the xterm 256-colour palette."""

    TRUECOLOR = "truecolor"
    COLOURS_256 = "256"


def colour_mode_for(color_system: str | None) -> ColourMode:
    """Truecolor only when the console's colour system is truecolor; every lesser system gets 256."""
    return ColourMode.TRUECOLOR if color_system == "truecolor" else ColourMode.COLOURS_256


def detect_colour_mode(environ: Mapping[str, str] | None = None) -> ColourMode:
    """The mode Textual's own console would pick from this environment.

    Textual builds its console with `color_system=TEXTUAL_COLOR_SYSTEM` (default "auto"), and Rich's
    auto-detection says truecolor only for COLORTERM=truecolor|24bit; OpenSSH does not forward
    COLORTERM by default, so a console over plain SSH lands here as 256 colours (docs/console.md#colour-depth-over-ssh).
    """
    env = dict(os.environ if environ is None else environ)
    requested = env.get("TEXTUAL_COLOR_SYSTEM", "auto")
    console = Console(
        color_system=requested if requested in ("auto", "standard", "256", "truecolor", "windows") else "auto",  # type: ignore[arg-type]
        file=io.StringIO(),
        force_terminal=True,
        legacy_windows=False,
        _environ=env,
    )
    return colour_mode_for(console.color_system)


def xterm_rgb(index: int) -> tuple[int, int, int]:
    """The RGB value an xterm-compatible terminal shows for palette entry `index` (16..255)."""
    if 16 <= index <= 231:
        cube = index - 16
        return _CUBE_LEVELS[cube // 36], _CUBE_LEVELS[cube // 6 % 6], _CUBE_LEVELS[cube % 6]
    if 232 <= index <= 255:
        grey = 8 + 10 * (index - 232)
        return grey, grey, grey
    raise ValueError(f"palette index must be 16..255, got {index}")


def rich_downgrade_index(rgb: tuple[int, int, int]) -> int:
    """The 8-bit palette entry Rich sends for this RGB colour on a 256-colour console."""
    number = Color.from_rgb(*rgb).downgrade(ColorSystem.EIGHT_BIT).number
    assert number is not None
    return number


@lru_cache(maxsize=None)
def carrier_rgb(index: int) -> tuple[int, int, int] | None:
    """An RGB colour that Rich's 256-colour downgrade maps to exactly `index`, or None if none is found.

    Greys go by lightness in 26 steps (l * 25 rounded), so the carrier for a grey step g is
    10.2 * g; cube colours are their own carriers when saturated enough for Rich's cube branch.
    """
    red, green, blue = xterm_rgb(index)
    if red == green == blue:
        step = 0 if index == 16 else 25 if index == 231 else index - 231 if index >= 232 else None
        candidates = [] if step is None else [(round(step * 10.2),) * 3]
    else:
        candidates = [(red, green, blue)]
    for candidate in candidates:
        if rich_downgrade_index(candidate) == index:
            return candidate
    return None


@lru_cache(maxsize=None)
def grey_palette(native_ansi: bool) -> tuple[int, ...]:
    """The palette entries used for greys: the 232-255 ramp plus the cube's greys that reach the terminal."""
    cube_greys = _CUBE_GREYS if native_ansi else tuple(g for g in _CUBE_GREYS if g not in _CUBE_MID_GREYS)
    return tuple(sorted(_GREY_RAMP + cube_greys, key=lambda index: xterm_rgb(index)[0]))


@lru_cache(maxsize=None)
def grey_lut_256(native_ansi: bool = False) -> np.ndarray:
    """For each grey 0..255, the palette entry whose displayed grey is nearest (ties to the darker)."""
    palette = grey_palette(native_ansi)
    shown = np.array([xterm_rgb(index)[0] for index in palette])
    distance = np.abs(np.arange(256)[:, None] - shown[None, :])
    return np.array(palette, dtype=np.uint16)[np.argmin(distance, axis=1)]


@lru_cache(maxsize=None)
def _cube_level_lut() -> np.ndarray:
    levels = np.array(_CUBE_LEVELS)
    return np.argmin(np.abs(np.arange(256)[:, None] - levels[None, :]), axis=1).astype(np.int32)


@lru_cache(maxsize=None)
def _cube_usable() -> np.ndarray:
    """Cube entries that survive Textual/Rich's pipeline as themselves (all but a few low-saturation ones)."""
    usable = np.zeros(256, dtype=bool)
    for index in range(16, 232):
        usable[index] = carrier_rgb(index) is not None
    return usable


def rgb_to_palette_256(rgb: np.ndarray, native_ansi: bool = False) -> np.ndarray:
    """Nearest 256-colour entry per pixel: the nearest cube colour or the nearest grey, whichever is closer."""
    levels = np.array(_CUBE_LEVELS, dtype=np.int32)
    rgb = rgb.astype(np.int32)
    level = _cube_level_lut()[rgb]
    cube_index = 16 + 36 * level[..., 0] + 6 * level[..., 1] + level[..., 2]
    cube_error = ((levels[level] - rgb) ** 2).sum(axis=-1)
    luma = (rgb[..., 0] * 299 + rgb[..., 1] * 587 + rgb[..., 2] * 114 + 500) // 1000
    grey_index = grey_lut_256(native_ansi)[luma].astype(np.int32)
    grey_values = np.array([xterm_rgb(index)[0] if index >= 16 else 0 for index in range(256)], dtype=np.int32)
    grey_error = ((grey_values[grey_index][..., None] - rgb) ** 2).sum(axis=-1)
    use_cube = (cube_error < grey_error) & (native_ansi | _cube_usable()[cube_index])
    return np.where(use_cube, cube_index, grey_index)


def palette_color(index: int, native_ansi: bool) -> Color:
    """The Rich colour to emit for palette entry `index`: itself when native, else its RGB carrier."""
    if native_ansi:
        return Color.from_ansi(index)
    carrier = carrier_rgb(index)
    return Color.from_ansi(index) if carrier is None else Color.from_triplet(ColorTriplet(*carrier))


class _StyleCache:
    """Styles by packed (upper, lower) colour key; bounded so a long session cannot grow it forever."""

    def __init__(self) -> None:
        self._styles: dict[tuple[str, bool, int], Style] = {}

    def get(self, kind: str, native_ansi: bool, key: int) -> Style:
        cache_key = (kind, native_ansi, key)
        style = self._styles.get(cache_key)
        if style is None:
            if len(self._styles) >= _STYLE_CACHE_LIMIT:
                self._styles.clear()
            upper, lower = _unpack(kind, key)
            style = Style.from_color(_colour(kind, lower, native_ansi), _colour(kind, upper, native_ansi))
            self._styles[cache_key] = style
        return style


_STYLES = _StyleCache()


def halfcell_rows(display: np.ndarray, mode: ColourMode = ColourMode.TRUECOLOR, native_ansi: bool = False) -> list[Row]:
    """Segments for each cell row of an 8-bit image (h x w grey or h x w x 3 RGB; h even).

    Runs of identical cells in a row become one Segment.
    """
    if display.shape[0] % 2:
        display = np.concatenate([display, display[-1:]], axis=0)
    kind, keys = _cell_keys(display, mode, native_ansi)
    rows: list[Row] = []
    for row_keys in keys:
        breaks = np.flatnonzero(row_keys[1:] != row_keys[:-1]) + 1
        starts = [0, *breaks.tolist()]
        ends = [*breaks.tolist(), len(row_keys)]
        values = row_keys[starts].tolist()
        rows.append(
            [
                Segment(LOWER_HALF * (end - start), _STYLES.get(kind, native_ansi, value))
                for start, end, value in zip(starts, ends, values)
            ]
        )
    return rows


@dataclass(frozen=True)
class PreviewRender:
    """A frame ready to draw: cell rows `width` cells wide, and the window that produced it."""

    rows: list[Row]
    width: int
    window: Window | None


def render_preview(
    pixels: np.ndarray,
    model: PixelModel,
    settings: DisplaySettings,
    cols: int,
    rows: int,
    mode: ColourMode = ColourMode.TRUECOLOR,
    native_ansi: bool = False,
) -> PreviewRender:
    """Window, resample into cols x rows half-cells and build the cell rows: the whole display path."""
    display, window = to_display(pixels, model, settings)
    small = resample_to_cells(display, cols, rows, model.pixel_aspect)
    return PreviewRender(halfcell_rows(small, mode, native_ansi), int(small.shape[1]), window)


class HalfcellImage:
    """A Rich renderable of prepared rows, e.g. for `Console.print` or a Textual `Static`."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        newline = Segment.line()
        for row in self.rows:
            yield from row
            yield newline


def cell_colours(rows: list[Row]) -> list[list[tuple[str, ColorTriplet | int | None, ColorTriplet | int | None]]]:
    """Per cell: (character, foreground, background) as triplets or palette numbers; for comparisons."""

    def value(color: Color | None) -> ColorTriplet | int | None:
        if color is None:
            return None
        return color.triplet if color.triplet is not None else color.number

    grid = []
    for row in rows:
        cells = []
        for segment in row:
            style = segment.style or Style()
            for character in segment.text:
                cells.append((character, value(style.color), value(style.bgcolor)))
        grid.append(cells)
    return grid


def _cell_keys(display: np.ndarray, mode: ColourMode, native_ansi: bool) -> tuple[str, np.ndarray]:
    if display.ndim == 2 and mode is ColourMode.TRUECOLOR:
        upper, lower = display[0::2].astype(np.int64), display[1::2].astype(np.int64)
        return "grey", upper << 8 | lower
    if display.ndim == 2:
        indices = grey_lut_256(native_ansi)[display].astype(np.int64)
        return "index", indices[0::2] << 8 | indices[1::2]
    if mode is ColourMode.TRUECOLOR:
        packed = display[..., 0].astype(np.int64) << 16 | display[..., 1].astype(np.int64) << 8 | display[..., 2]
        return "rgb", packed[0::2] << 24 | packed[1::2]
    indices = rgb_to_palette_256(display, native_ansi).astype(np.int64)
    return "index", indices[0::2] << 8 | indices[1::2]


def _unpack(kind: str, key: int) -> tuple[int, int]:
    shift = 24 if kind == "rgb" else 8
    return key >> shift, key & ((1 << shift) - 1)


def _colour(kind: str, value: int, native_ansi: bool) -> Color:
    if kind == "grey":
        return Color.from_rgb(value, value, value)
    if kind == "rgb":
        return Color.from_rgb(value >> 16, (value >> 8) & 0xFF, value & 0xFF)
    return palette_color(value, native_ansi)
