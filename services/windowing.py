"""Stored pixels to 8-bit display pixels: rescale, window/level, photometric handling, resampling.

Greyscale frames go stored value -> modality value (RescaleSlope/Intercept) -> VOI window -> 0..255,
inverted for MONOCHROME1 or on request. The window function is the instance's VOILUTFunction for its
own windows (LINEAR, LINEAR_EXACT or SIGMOID, PS3.3 C.11.2.1.3) and LINEAR for presets and auto. Colour frames
(RGB, and YBR_FULL converted to RGB) are shown as colour and ignore the window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

# Largest stored-value span served by a lookup table; wider (or float) data is windowed directly.
_MAX_LUT_SPAN = 1 << 20
_COLOUR_PHOTOMETRICS = frozenset({"RGB", "YBR_ICT", "YBR_RCT", "YBR_FULL", "YBR_FULL_422"})
LINEAR, LINEAR_EXACT, SIGMOID = "LINEAR", "LINEAR_EXACT", "SIGMOID"
_VOI_FUNCTIONS = frozenset({LINEAR, LINEAR_EXACT, SIGMOID})


@dataclass(frozen=True)
class Window:
    """A VOI window in modality units (Hounsfield units for CT), with the name shown to the user."""

    center: float
    width: float
    label: str = "custom"
    #: The VOI LUT function (PS3.3 C.11.2.1.3); only an instance's own windows carry another than LINEAR.
    function: str = LINEAR

    def describe(self) -> str:
        """`W 400 L 50 (soft tissue)`: the overlay's W/L text (the function too when it is not LINEAR)."""
        label = self.label if self.function == LINEAR else f"{self.label}, {self.function.lower()}"
        return f"W {_number(self.width)} L {_number(self.center)} ({label})"


# Standard CT presets as published by Radiopaedia, "Windowing (CT)": brain W80 L40, abdominal soft
# tissue W400 L50, lungs W1500 L-600, mediastinum W350 L50, liver W150 L30, bone W1800 L400.
PRESETS: tuple[Window, ...] = (
    Window(50, 400, "soft tissue"),
    Window(-600, 1500, "lung"),
    Window(400, 1800, "bone"),
    Window(40, 80, "brain"),
    Window(30, 150, "liver"),
    Window(50, 350, "mediastinum"),
)
AUTO = "auto"
AUTO_PERCENTILE = "auto 1-99%"
DICOM = "DICOM"
# The order `w` cycles through; DICOM is skipped for instances that carry no window.
CHOICES: tuple[str, ...] = (DICOM, *(preset.label for preset in PRESETS), AUTO, AUTO_PERCENTILE)
_PRESETS_BY_LABEL = {preset.label: preset for preset in PRESETS}


@dataclass(frozen=True)
class PixelModel:
    """The instance attributes that decide how stored values become display values."""

    photometric: str = "MONOCHROME2"
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    windows: tuple[Window, ...] = ()
    bits_stored: int | None = None
    pixel_aspect: float = 1.0

    @property
    def is_colour(self) -> bool:
        return self.photometric in _COLOUR_PHOTOMETRICS

    def for_frame(self, colour_space: str | None) -> PixelModel:
        """This model as the decoded samples need it: a YBR instance whose frame file says sRGB holds RGB.

        Importers that decode YBR_FULL_422 input (pydicom's default converts to RGB) store RGB samples
        while the metadata keeps the original PhotometricInterpretation; the frame's `colr` box tells.
        """
        if colour_space == "sRGB" and self.photometric.startswith("YBR"):
            return replace(self, photometric="RGB")
        return self


@dataclass(frozen=True)
class DisplaySettings:
    """What the user picked: a window choice (preset label, DICOM, auto) or an explicit window, and invert."""

    choice: str = DICOM
    window: Window | None = None
    invert: bool = False

    def with_window(self, window: Window) -> DisplaySettings:
        return replace(self, window=window, choice=window.label)

    def with_choice(self, choice: str) -> DisplaySettings:
        return replace(self, choice=choice, window=None)


def preset(label: str) -> Window:
    """The preset named `label` (KeyError for an unknown name)."""
    return _PRESETS_BY_LABEL[label]


def modality_values(pixels: np.ndarray, model: PixelModel) -> np.ndarray:
    """Stored values with RescaleSlope and RescaleIntercept applied, as float32."""
    values = pixels.astype(np.float32)
    if model.rescale_slope != 1.0:
        values *= np.float32(model.rescale_slope)
    if model.rescale_intercept != 0.0:
        values += np.float32(model.rescale_intercept)
    return values


def auto_window(pixels: np.ndarray, model: PixelModel) -> Window:
    """The window that maps the frame's lowest modality value to 0 and its highest to 255."""
    low, high = _modality_range(float(pixels.min()), float(pixels.max()), model)
    return Window((low + high + 1) / 2, max(high - low + 1, 1.0), AUTO)


def percentile_window(pixels: np.ndarray, model: PixelModel, low_pct: float = 1, high_pct: float = 99) -> Window:
    """A window spanning the 1st to 99th percentile, robust against a few extreme pixels."""
    sample = pixels[::4, ::4] if pixels.shape[0] >= 64 and pixels.shape[1] >= 64 else pixels
    low_stored, high_stored = np.percentile(sample, (low_pct, high_pct))
    low, high = _modality_range(float(low_stored), float(high_stored), model)
    return Window((low + high + 1) / 2, max(high - low + 1, 1.0), AUTO_PERCENTILE)


def resolve_window(pixels: np.ndarray, model: PixelModel, settings: DisplaySettings) -> Window:
    """The concrete window for these settings: explicit, preset, the instance's own, or auto."""
    if settings.window is not None:
        return settings.window
    if settings.choice in _PRESETS_BY_LABEL:
        return _PRESETS_BY_LABEL[settings.choice]
    if settings.choice == DICOM and model.windows:
        return model.windows[0]
    if settings.choice == AUTO_PERCENTILE:
        return percentile_window(pixels, model)
    return auto_window(pixels, model)


def window_to_uint8(values: np.ndarray, window: Window) -> np.ndarray:
    """The window's VOI function onto 0..255, rounded half up.

    LINEAR: y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255, clipped to 0..255; a width of 1 is a threshold
    at c - 0.5 (x at or below it is black). LINEAR_EXACT: y = ((x - c) / w + 0.5) * 255, clipped.
    SIGMOID: y = 255 / (1 + exp(-4 (x - c) / w)).
    """
    values = np.asarray(values, dtype=np.float32)
    if window.function == SIGMOID:
        with np.errstate(over="ignore"):  # far below the center exp() overflows to inf: y is 0 there
            exponent = np.exp(np.float32(-4) * (values - np.float32(window.center)) / np.float32(window.width))
        return (np.float32(255) / (np.float32(1) + exponent) + np.float32(0.5)).astype(np.uint8)
    if window.function == LINEAR_EXACT:
        scaled = ((values - np.float32(window.center)) / np.float32(window.width) + np.float32(0.5)) * np.float32(255)
        return (np.clip(scaled, 0, 255) + np.float32(0.5)).astype(np.uint8)
    center, width = np.float32(window.center), np.float32(max(window.width, 1.0))
    if width <= 1:
        return np.where(values <= center - np.float32(0.5), 0, 255).astype(np.uint8)
    scaled = ((values - (center - np.float32(0.5))) / (width - np.float32(1)) + np.float32(0.5)) * np.float32(255)
    np.clip(scaled, 0, 255, out=scaled)
    scaled += np.float32(0.5)
    return scaled.astype(np.uint8)


def greyscale_display(pixels: np.ndarray, model: PixelModel, window: Window, invert: bool) -> np.ndarray:
    """A greyscale frame as 0..255 display values (MONOCHROME1 shown inverted, as the standard asks)."""
    flip = invert != (model.photometric == "MONOCHROME1")
    if pixels.dtype.kind in "iu":
        low, high = int(pixels.min()), int(pixels.max())
        if high - low < _MAX_LUT_SPAN:
            lut = window_to_uint8(modality_values(np.arange(low, high + 1, dtype=np.int64), model), window)
            if flip:
                lut = 255 - lut
            if pixels.dtype.kind == "u" and pixels.dtype.itemsize <= 2 and low >= 0:
                return np.pad(lut, (low, 0))[pixels]
            return lut[(pixels.astype(np.int64) - low)]
    display = window_to_uint8(modality_values(pixels, model), window)
    return 255 - display if flip else display


def colour_display(pixels: np.ndarray, model: PixelModel, invert: bool) -> np.ndarray:
    """A colour frame as 8-bit RGB; YBR_FULL is converted with the PS3.3 C.7.6.3.1.2 equations."""
    rgb = _to_8bit(pixels, model.bits_stored)
    if model.photometric in ("YBR_FULL", "YBR_FULL_422"):
        rgb = ybr_full_to_rgb(rgb)
    return 255 - rgb if invert else rgb


def ybr_full_to_rgb(ybr: np.ndarray) -> np.ndarray:
    """Full-range YCbCr (8-bit) to RGB."""
    y, cb, cr = (ybr[..., index].astype(np.float32) for index in range(3))
    cb -= 128
    cr -= 128
    rgb = np.stack((y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb), axis=-1)
    return (np.clip(rgb, 0, 255) + 0.5).astype(np.uint8)


def to_display(pixels: np.ndarray, model: PixelModel, settings: DisplaySettings) -> tuple[np.ndarray, Window | None]:
    """Display pixels (rows x cols, or rows x cols x 3 for colour) and the window used (None for colour)."""
    if model.is_colour and pixels.ndim == 3:
        return colour_display(pixels, model, settings.invert), None
    grey = pixels if pixels.ndim == 2 else pixels[..., 0]
    window = resolve_window(grey, model, settings)
    return greyscale_display(grey, model, window, settings.invert), window


def fit_to_cells(width: int, height: int, cols: int, rows: int, pixel_aspect: float = 1.0) -> tuple[int, int]:
    """Pixel size (w, h) of an image scaled into cols x rows half-cells: one column by two pixel rows each.

    Keeps the aspect ratio (`pixel_aspect` = row spacing / column spacing), fills one dimension, and
    makes h even so every cell has an upper and a lower pixel.
    """
    if cols < 1 or rows < 1:
        raise ValueError(f"preview size must be at least 1x1 cells, got {cols}x{rows}")
    physical_height = height * pixel_aspect
    scale = min(cols / width, 2 * rows / physical_height)
    target_width = min(cols, max(1, round(width * scale)))
    target_height = min(2 * rows, max(2, 2 * round(physical_height * scale / 2)))
    return target_width, target_height


def resample(display: np.ndarray, size: tuple[int, int], method: Image.Resampling = Image.Resampling.LANCZOS) -> np.ndarray:
    """Resize 8-bit display pixels to `size` (w, h) with Pillow (LANCZOS: NEAREST aliases on CT noise)."""
    if (display.shape[1], display.shape[0]) == size:
        return display
    return np.asarray(Image.fromarray(display).resize(size, method))


def resample_to_cells(display: np.ndarray, cols: int, rows: int, pixel_aspect: float = 1.0) -> np.ndarray:
    """Display pixels fitted into cols x rows half-cells (see `fit_to_cells`)."""
    size = fit_to_cells(display.shape[1], display.shape[0], cols, rows, pixel_aspect)
    return resample(display, size)


def parse_windows(centers: object, widths: object, function: object = None) -> tuple[Window, ...]:
    """WindowCenter/WindowWidth from metadata (a DS string, a number or a list of them), paired in order.

    `function` is the instance's VOILUTFunction; absent or unknown means LINEAR, whose width must be
    at least 1 (the others need only a positive width).
    """
    name = str(function[0] if isinstance(function, (list, tuple)) and function else function or LINEAR).strip().upper()
    voi = name if name in _VOI_FUNCTIONS else LINEAR
    smallest = 1.0 if voi == LINEAR else np.finfo(np.float32).tiny
    pairs = zip(_numbers(centers), _numbers(widths))
    return tuple(Window(center, width, DICOM, voi) for center, width in pairs if width >= smallest)


def next_choice(current: str, step: int, has_dicom_window: bool) -> str:
    """The choice `step` places after `current` in CHOICES, skipping DICOM when the instance has none."""
    choices = [choice for choice in CHOICES if has_dicom_window or choice != DICOM]
    index = choices.index(current) if current in choices else -1 if step > 0 else 0
    return choices[(index + step) % len(choices)]


def _numbers(value: object) -> list[float]:
    items: Sequence[object] = value if isinstance(value, (list, tuple)) else [value]
    numbers = []
    for item in items:
        if isinstance(item, str):
            parts = [part for part in item.split("\\") if part.strip()]
            numbers.extend(float(part) for part in parts)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            numbers.append(float(item))
    return numbers


def _modality_range(low_stored: float, high_stored: float, model: PixelModel) -> tuple[float, float]:
    ends = sorted(value * model.rescale_slope + model.rescale_intercept for value in (low_stored, high_stored))
    return ends[0], ends[1]


def _to_8bit(pixels: np.ndarray, bits_stored: int | None) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    bits = bits_stored or pixels.dtype.itemsize * 8
    shifted = pixels.astype(np.int64) >> max(bits - 8, 0)
    return np.clip(shifted, 0, 255).astype(np.uint8)


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def parse_typed_window(text: str) -> Window:
    """A window typed as width then level: `400 40`, `400/40`, `400,40` or `W400 L40` (ValueError when not).

    Width first, as the overlay writes it (`W 400 L 40`); letters, when given, may come in either order.
    """
    cleaned = text.strip().lower().replace("/", " ").replace(",", " ")
    tagged = dict(_TAGGED.findall(cleaned))
    if tagged and set(tagged) == {"w", "l"}:
        width, center = float(tagged["w"]), float(tagged["l"])
    else:
        parts = cleaned.split()
        if len(parts) != 2:
            raise ValueError("type a width and a level, e.g. 400 40")
        try:
            width, center = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError("type a width and a level as numbers, e.g. 400 40") from None
    if not np.isfinite(width) or not np.isfinite(center):
        raise ValueError("width and level must be finite numbers")
    if width < 1:
        raise ValueError("the width must be at least 1")
    return Window(center, width, "typed")


_TAGGED = re.compile(r"([wl])\s*(-?\d+(?:\.\d+)?)")
