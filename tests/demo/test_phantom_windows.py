"""The demo CT head in CT numbers: each standard window (brain, soft tissue, bone) shows structure, not one ring."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest

from ahi.emulator.demo.phantoms import ct_series, shepp_logan_hu
from ahi.services.windowing import PixelModel, Window, greyscale_display, preset

BRAIN, SOFT, BONE = preset("brain"), preset("soft tissue"), preset("bone")


def display(window: Window) -> np.ndarray:
    """The middle slice of the demo CT as shown in `window`, read back from the DICOM file as a viewer reads it."""
    ds = pydicom.dcmread(io.BytesIO(ct_series(3, 128)[1][1]))
    model = PixelModel(rescale_slope=float(ds.RescaleSlope), rescale_intercept=float(ds.RescaleIntercept))
    return greyscale_display(ds.pixel_array, model, window, invert=False)


def mean_in(window: Window, hu: float) -> float:
    """The mean display value of the pixels painted `hu` (noise-free map of the same slice)."""
    tissue = shepp_logan_hu(128, 0.0) == hu
    assert tissue.any(), f"no pixel of {hu} HU in the slice"
    return float(display(window)[tissue].mean())


def test_the_brain_sits_at_brain_ct_numbers_not_minus_960() -> None:
    slice_ = shepp_logan_hu(128, -0.25)
    head = slice_ > -1000
    inside_skull = head & (slice_ < 100) & (slice_ > -50)
    assert inside_skull.sum() > 0.4 * head.sum(), "most of the head is brain and CSF at 0..100 HU"
    assert {10.0, 25.0, 40.0} <= set(np.unique(slice_).tolist())


@pytest.mark.parametrize(
    ("window", "darker", "brighter"),
    [
        pytest.param(BRAIN, 10.0, 25.0, id="brain: CSF darker than white matter"),
        pytest.param(BRAIN, 25.0, 40.0, id="brain: white matter darker than grey"),
        pytest.param(SOFT, -100.0, 40.0, id="soft tissue: fat darker than scalp and cortex"),
        pytest.param(BONE, 750.0, 1500.0, id="bone: diploe darker than the outer table"),
    ],
)
def test_each_window_separates_tissues(window: Window, darker: float, brighter: float) -> None:
    assert mean_in(window, brighter) - mean_in(window, darker) >= 20, "the two tissues look the same"


@pytest.mark.parametrize("window", [BRAIN, SOFT, BONE], ids=["brain", "soft tissue", "bone"])
def test_each_window_shows_many_grey_levels_inside_the_head(window: Window) -> None:
    head = shepp_logan_hu(128, 0.0) > -1000
    levels = np.unique(display(window)[head] // 16)
    assert len(levels) >= 5, f"{len(levels)} bands of grey: no structure"
