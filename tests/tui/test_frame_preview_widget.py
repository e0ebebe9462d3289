"""The frame preview widget through Pilot: half-cells drawn, W/L keys, stale renders dropped, 256 colours."""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from collections.abc import Awaitable, Callable, Sequence

import numpy as np
from console_harness import poll
from rich.color import ColorSystem
from rich.control import Control
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.strip import Strip

from ahi.emulator.demo.phantoms import shepp_logan_hu
from ahi.services.frame_metadata import FrameLabels, FrameRequest
from ahi.services.frames import ChecksumState, DecodedFrame, FrameKey, frame_crc32, verify_checksum
from ahi.services.windowing import DisplaySettings, PixelModel, Window, parse_windows, preset, to_display
from ahi.tui.graphics_detect import GraphicsChoice, cell_pixels
from ahi.tui.graphics_protocol import GraphicsMode, encode, kitty_delete, tmux_wrap
from ahi.tui.actions import REGISTRY
from ahi.tui.pixels_render import ColourMode, cell_colours, grey_lut_256, render_preview
from ahi.tui.widgets.frame_preview import FramePreview, ThumbnailStrip, thumbnail_range

def pilot_test(test: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """Run an async Pilot test on its own event loop (no asyncio plugin needed)."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())  # type: ignore[arg-type]

    return run


CT_MODEL = PixelModel(rescale_intercept=-1024, windows=parse_windows("40", "80"))


def phantom_frame(index: int, size: int = 128, corrupt: bool = False) -> tuple[FrameRequest, DecodedFrame]:
    """Slice `index` of a noise-free Shepp-Logan head as stored CT values, with its metadata request."""
    hu = shepp_logan_hu(size, -0.3 + 0.15 * index)
    hu[(hu > -1000) & (hu < 500)] += 1000  # the phantom's brain sits near -960 HU; lift it to ~40 HU
    pixels = np.rint(hu + 1024).astype(np.int16)
    key = FrameKey("imageset", "1", f"frame{index}")
    expected = frame_crc32(pixels) ^ (1 if corrupt else 0)
    labels = FrameLabels("Phantom^Shepp^Logan (AHI-DEMO-001)", "Series 2 · CT · Head axial", f"Instance {index + 1} · {index + 1}/5")
    request = FrameRequest(key, expected, CT_MODEL, labels, f"sop{index}", size, size)
    return request, DecodedFrame(key, pixels, verify_checksum(pixels, expected))


class PreviewApp(App[None]):
    def __init__(self, loader: Callable[[FrameRequest], DecodedFrame], frames: Sequence[FrameRequest], mode: ColourMode = ColourMode.TRUECOLOR) -> None:
        super().__init__()
        self.loader, self.frames, self.mode = loader, list(frames), mode
        self.mismatches: list[FramePreview.ChecksumMismatch] = []

    def compose(self) -> ComposeResult:
        yield FramePreview(self.loader, self.frames, colour_mode=self.mode)

    def on_frame_preview_checksum_mismatch(self, message: FramePreview.ChecksumMismatch) -> None:
        self.mismatches.append(message)


def series(count: int = 5, corrupt: Sequence[int] = ()) -> tuple[list[FrameRequest], dict[FrameKey, DecodedFrame]]:
    pairs = [phantom_frame(index, corrupt=index in corrupt) for index in range(count)]
    return [request for request, _ in pairs], {decoded.key: decoded for _, decoded in pairs}


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def image_lines(preview: FramePreview) -> list[Strip]:
    return [preview.render_line(y) for y in range(preview.size.height)]


def line_text(strip: Strip) -> str:
    return "".join(segment.text for segment in strip)


@pilot_test
async def test_preview_draws_the_windowed_frame_as_half_cells_centred() -> None:
    frames, decoded = series()
    app = PreviewApp(lambda request: decoded[request.key], frames)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        preview = app.query_one(FramePreview)
        assert preview.window == Window(40, 80, "DICOM")
        expected = render_preview(decoded[frames[0].key].pixels, CT_MODEL, DisplaySettings(), 60, 20)
        assert expected.width == 40 and len(expected.rows) == 20
        preview.show_overlay = False
        lines = image_lines(preview)
        left = (60 - expected.width) // 2
        for strip, row in zip(lines, expected.rows):
            assert cell_colours([list(strip.crop(left, left + expected.width))]) == cell_colours([row])
        assert set(line_text(lines[10])[left : left + 40]) == {"▄"}


@pilot_test
async def test_preset_keys_change_the_window_and_the_overlay_says_so() -> None:
    frames, decoded = series()
    app = PreviewApp(lambda request: decoded[request.key], frames)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        preview = app.query_one(FramePreview)
        assert "W 80 L 40 (DICOM)" in line_text(preview.render_line(19))
        await pilot.press("2")
        await settle(pilot)
        assert preview.window == preset("lung")
        assert "W 1500 L -600 (lung)" in line_text(preview.render_line(19))
        await pilot.press("w")
        await settle(pilot)
        assert preview.window == preset("bone")
        await pilot.press("plus", "full_stop")
        await settle(pilot)
        assert preview.window == Window(400 + 112, 2250, "custom")
        before = cell_colours([list(preview.render_line(10))])
        await pilot.press("i")
        await settle(pilot)
        after = cell_colours([list(preview.render_line(10))])
        assert "inverted" in line_text(preview.render_line(19))
        centre = 30
        assert before[0][centre][1].red + after[0][centre][1].red == 255


@pilot_test
async def test_stepping_quickly_drops_the_stale_render() -> None:
    frames, decoded = series()
    release = threading.Event()
    started = threading.Event()
    calls: list[FrameKey] = []

    def slow_first(request: FrameRequest) -> DecodedFrame:
        calls.append(request.key)
        if request.key.frame_id == "frame0":
            started.set()
            release.wait(30)
        return decoded[request.key]

    app = PreviewApp(slow_first, frames)
    async with app.run_test(size=(60, 20)) as pilot:
        assert started.wait(5)
        preview = app.query_one(FramePreview)
        await pilot.press("right", "right")
        await pilot.pause()
        await poll(pilot, lambda: preview.decoded is not None, "frame 2 rendered while frame 0 is still being fetched")
        assert preview.decoded is not None and preview.decoded.key.frame_id == "frame2"
        release.set()
        await settle(pilot)
        assert preview.index == 2 and preview.decoded.key.frame_id == "frame2"
        assert calls[0].frame_id == "frame0" and calls[-1].frame_id == "frame2"
        assert "Instance 3" in line_text(preview.render_line(0))


@pilot_test
async def test_a_checksum_mismatch_stays_on_screen_and_is_announced() -> None:
    frames, decoded = series(corrupt=[1])
    app = PreviewApp(lambda request: decoded[request.key], frames)
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot)
        preview = app.query_one(FramePreview)
        assert "CRC-32 ok" in line_text(preview.render_line(19))
        await pilot.press("o")  # overlay off: an ok checksum is not shown ...
        assert "CRC-32" not in line_text(preview.render_line(19))
        await pilot.press("l")
        await settle(pilot)
        bottom = line_text(preview.render_line(19))  # ... but a mismatch is, with both values
        check = decoded[frames[1].key].checksum
        assert check.state is ChecksumState.MISMATCH
        assert f"MISMATCH: metadata {check.expected}, decoded {check.actual}" in bottom
        assert [message.request.key.frame_id for message in app.mismatches] == ["frame1"]


@pilot_test
async def test_256_colour_preview_reaches_the_terminal_as_the_chosen_grey_ramp() -> None:
    frames, decoded = series()
    app = PreviewApp(lambda request: decoded[request.key], frames, mode=ColourMode.COLOURS_256)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        preview = app.query_one(FramePreview)
        preview.show_overlay = False
        strip = preview.render_line(10).crop(10, 50)  # the 40 image cells
        for line_filter in app._filters:  # what the compositor does to every line before output
            strip = strip.apply_filter(line_filter, preview.styles.background)
        ansi = "".join(segment.style.render(segment.text, color_system=ColorSystem.EIGHT_BIT) for segment in strip if segment.style)
        sent = {int(number) for number in re.findall(r"[34]8;5;(\d+)", ansi)}
        display = render_preview(decoded[frames[0].key].pixels, CT_MODEL, DisplaySettings(), 60, 20, ColourMode.TRUECOLOR)
        greys = {value for cell in cell_colours([display.rows[10]])[0] for value in (cell[1].red, cell[2].red)}
        assert sent == {int(grey_lut_256()[value]) for value in greys}
        assert "38;2;" not in ansi


@pilot_test
async def test_thumbnail_strip_marks_the_current_frame() -> None:
    frames, decoded = series()
    loads: list[str] = []

    def loader(request: FrameRequest) -> DecodedFrame:
        loads.append(request.key.frame_id)
        return decoded[request.key]

    class StripApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ThumbnailStrip(loader, frames, index=1, thumb_cols=10, colour_mode=ColourMode.TRUECOLOR)

    app = StripApp()
    async with app.run_test(size=(34, 9)) as pilot:
        await settle(pilot)
        strip = app.query_one(ThumbnailStrip)
        assert loads == ["frame0", "frame1", "frame2"]
        assert line_text(strip.render_line(8)).split() == ["1", "▲2", "3"]
        assert "▄" in line_text(strip.render_line(4))
        strip.focus()
        await pilot.press("l", "l", "l")
        await settle(pilot)
        assert strip.index == 4 and line_text(strip.render_line(8)).split() == ["3", "4", "▲5"]


def test_thumbnail_range_keeps_the_current_frame_in_view() -> None:
    assert thumbnail_range(20, 5, 0) == (0, 5)
    assert thumbnail_range(20, 5, 10) == (8, 5)
    assert thumbnail_range(20, 5, 19) == (15, 5)
    assert thumbnail_range(3, 5, 1) == (0, 3)


def test_preview_keys_are_registered_actions_with_ids() -> None:
    ids = {binding.id for binding in FramePreview.BINDINGS}  # type: ignore[union-attr]
    assert {"preview.next_frame", "preview.next_preset", "preview.invert", "preview.overlay", "preview.preset_lung"} <= ids
    assert REGISTRY["preview.preset_lung"].keys == "2"


def test_snapshot_of_a_phantom_preview(snap_compare: Callable[..., bool]) -> None:
    frames, decoded = series()
    app = PreviewApp(lambda request: decoded[request.key], frames)
    assert snap_compare(app, terminal_size=(70, 30), run_before=settle)


@pilot_test
async def test_a_frame_that_cannot_be_loaded_is_reported_in_place_and_the_next_one_still_shows() -> None:
    frames, decoded = series()

    def loader(request: FrameRequest) -> DecodedFrame:
        if request.key.frame_id == "frame0":
            raise ValueError("frame is not JPEG 2000: starts with 89504e47")
        return decoded[request.key]

    app = PreviewApp(loader, frames)
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot)
        preview = app.query_one(FramePreview)
        assert "Cannot show frame: frame is not JPEG 2000" in line_text(preview.render_line(10))
        await pilot.press("right")
        await settle(pilot)
        assert preview.error is None and "▄" in line_text(preview.render_line(10))


HOSTILE = "\x1b]52;c;cHduZWQ=\x07\x1b_Ga=d\x1b\\\x1bP0q\x1b\\\u202e"


class GraphicsPreviewApp(App[None]):
    def __init__(self, loader: Callable[[FrameRequest], DecodedFrame], frames: Sequence[FrameRequest], choice: GraphicsChoice) -> None:
        super().__init__()
        self.loader, self.frames, self.choice = loader, list(frames), choice

    def compose(self) -> ComposeResult:
        yield FramePreview(self.loader, self.frames, graphics=self.choice)


@pilot_test
async def test_graphics_path_writes_the_windowed_frame_once_below_the_image_and_no_metadata() -> None:
    """Kitty through tmux: one raw segment (cursor to the image, delete, the frame, cursor back); labels stay text."""
    request, decoded = phantom_frame(2)
    hostile = FrameLabels(f"Patient {HOSTILE}", f"Series {HOSTILE}", f"Instance {HOSTILE}")
    request = FrameRequest(request.key, request.expected_checksum, request.model, hostile, request.sop_instance_uid, 128, 128)
    choice = GraphicsChoice(GraphicsMode.KITTY, True, "test", (3, 1))
    app = GraphicsPreviewApp(lambda _: decoded, [request], choice)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        preview = app.query_one(FramePreview)
        assert preview.graphic is not None and preview.graphic.mode is GraphicsMode.KITTY
        lines = image_lines(preview)
        raw = [(y, segment.text) for y, strip in enumerate(lines) for segment in strip if segment.control]
        assert len(raw) == 1
        y, text = raw[0]
        display, _ = to_display(decoded.pixels, request.model, DisplaySettings())
        image = encode(display, GraphicsMode.KITTY, 100, 27, cell_pixels(), 1848)
        top, left = 2 + (27 - image.rows) // 2, (100 - image.cols) // 2
        region = preview.content_region
        outer = Control.move_to(3 + region.x + left, 1 + region.y + top).segment.text
        expected = (
            Control.move_to(region.x + left, region.y + top).segment.text
            + tmux_wrap(outer + kitty_delete(1848) + image.sequence)
            + Control.move_to(region.x, region.y + y).segment.text
        )
        assert y == top + image.rows and text == expected
        assert HOSTILE not in text and "\x1b]52" not in text
        shown = "".join(segment.text for strip in lines for segment in strip if not segment.control)
        assert "\x1b" not in shown and "Patient" in shown
        assert "128×128 · kitty" in line_text(lines[1])
        assert all(not line_text(lines[row]).strip() for row in range(top, top + image.rows))


@pilot_test
async def test_half_cells_say_so_in_the_overlay() -> None:
    frames, decoded = series(1)
    app = PreviewApp(lambda request: decoded[request.key], frames)
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        preview = app.query_one(FramePreview)
        assert preview.graphic is None and preview.graphics.mode is GraphicsMode.CELLS
        assert "· cells" in line_text(image_lines(preview)[1])


@pilot_test
async def test_a_frame_that_fails_after_a_graphic_shows_the_error_not_the_old_image() -> None:
    frames, decoded = series(2)

    def loader(request: FrameRequest) -> DecodedFrame:
        if request.key == frames[1].key:
            raise ValueError("frame 2 is broken")
        return decoded[request.key]

    app = GraphicsPreviewApp(loader, frames, GraphicsChoice(GraphicsMode.SIXEL, False, "test"))
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        preview = app.query_one(FramePreview)
        assert preview.graphic is not None and "128×128 · sixel" in line_text(image_lines(preview)[1])
        await pilot.press("right")
        await settle(pilot)
        assert preview.graphic is None
        shown = "".join(line_text(strip) for strip in image_lines(preview))
        assert "Cannot show frame: frame 2 is broken" in shown and "\x1bP" not in shown
