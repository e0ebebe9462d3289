"""A terminal frame preview: half-cell pixels or a graphics protocol, W/L presets by key, an overlay, stepping.

Where the session chose a graphics protocol (tui/graphics_detect.py) the worker windows the frame the
same way and encodes it at its own resolution instead of building cell rows.

Frames come from a loader (FrameRequest -> DecodedFrame, blocking), called in a thread worker; the
worker also windows, resamples and builds the cell rows, then posts `Rendered`. Each request bumps a
generation counter and the worker group is exclusive, so when the user steps quickly the stale
renders are cancelled or, if already finished, dropped on arrival.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from textual import work
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import get_current_worker

from ahi.services.frame_metadata import FrameRequest
from ahi.services.frames import ChecksumState, DecodedFrame
from ahi.services.windowing import (
    AUTO,
    DICOM,
    PRESETS,
    DisplaySettings,
    Window,
    next_choice,
    parse_typed_window,
    resample_to_cells,
    to_display,
)
from ahi.tui.actions import REGISTRY, Action, ScopedBindings
from ahi.tui.graphics_detect import GraphicsChoice, cell_pixels, chosen
from ahi.tui.graphics_protocol import GraphicsImage, GraphicsMode, encode, kitty_delete, tmux_wrap
from ahi.tui.literal import visible
from ahi.tui.pixels_render import ColourMode, Row, colour_mode_for, halfcell_rows, render_preview

FrameLoader = Callable[[FrameRequest], DecodedFrame]
SCOPE = "frame_preview"
THUMBNAIL_SCOPE = "thumbnail_strip"
_WIDTH_STEP = 1.25
#: Rows kept free of a graphics image for the overlay: two at the top, one at the bottom.
_GRAPHICS_TOP, _GRAPHICS_BOTTOM = 2, 1
_KITTY_IMAGE_ID = 1848
#: A zero-width segment: its text goes to the terminal as it is (rich counts control segments as no cells).
_RAW = ((ControlType.CURSOR_FORWARD, 0),)

REGISTRY.register(
    Action("preview.next_frame", "next_frame", "right,l", "Next frame", SCOPE),
    Action("preview.previous_frame", "previous_frame", "left,h", "Previous frame", SCOPE),
    Action("preview.next_instance", "next_instance", "right_square_bracket,pagedown", "Next instance", SCOPE, footer=False),
    Action("preview.previous_instance", "previous_instance", "left_square_bracket,pageup", "Previous instance", SCOPE, footer=False),
    Action("preview.next_preset", "next_preset", "w", "Next W/L preset", SCOPE),
    Action("preview.previous_preset", "previous_preset", "W", "Previous W/L preset", SCOPE, footer=False),
    Action("preview.dicom_window", f"choose('{DICOM}')", "0", "Instance's own W/L", SCOPE, footer=False),
    *(
        Action(f"preview.preset_{preset.label.replace(' ', '_')}", f"choose('{preset.label}')", str(number), f"W/L {preset.label}", SCOPE, footer=False)
        for number, preset in enumerate(PRESETS, start=1)
    ),
    Action("preview.auto_window", f"choose('{AUTO}')", "a", "Auto W/L (min/max)", SCOPE, footer=False),
    Action("preview.wider", "widen(1)", "plus,equals_sign", "Wider window", SCOPE, footer=False),
    Action("preview.narrower", "widen(-1)", "minus", "Narrower window", SCOPE, footer=False),
    Action("preview.level_up", "shift_level(1)", "greater_than_sign,full_stop", "Level up", SCOPE, footer=False),
    Action("preview.level_down", "shift_level(-1)", "less_than_sign,comma", "Level down", SCOPE, footer=False),
    Action("preview.type_window", "type_window", "e", "Type W/L", SCOPE),
    Action("preview.invert", "invert", "i", "Invert", SCOPE),
    Action("preview.overlay", "toggle_overlay", "o", "Overlay", SCOPE),
    Action("thumbnails.next", "step(1)", "right,l", "Next thumbnail", THUMBNAIL_SCOPE),
    Action("thumbnails.previous", "step(-1)", "left,h", "Previous thumbnail", THUMBNAIL_SCOPE),
)


@dataclass(frozen=True)
class _Job:
    generation: int
    request: FrameRequest
    settings: DisplaySettings
    size: Size
    decoded: DecodedFrame | None
    mode: ColourMode
    native_ansi: bool
    graphics: GraphicsChoice


class FramePreview(ScopedBindings, Widget, can_focus=True):
    """Shows one frame of a sequence (a series in InstanceNumber order) and steps through it."""

    SCOPE = SCOPE
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "frame-preview--overlay",
        "frame-preview--mismatch",
        "frame-preview--absent",
        "frame-preview--message",
        "frame-preview--error",
    }
    DEFAULT_CSS = """
    FramePreview { background: black; color: $text; height: 1fr; width: 1fr; min-height: 4; min-width: 10; }
    FramePreview > .frame-preview--overlay { color: white; background: black 60%; }
    FramePreview > .frame-preview--mismatch { color: white; background: red; text-style: bold; }
    FramePreview > .frame-preview--absent { color: black; background: yellow; }
    FramePreview > .frame-preview--message { color: $text-muted; }
    FramePreview > .frame-preview--error { color: $error; text-style: bold; }
    """

    @dataclass
    class Rendered(Message):
        """A worker finished a frame (dropped on arrival if it is stale)."""

        generation: int
        decoded: DecodedFrame
        window: Window | None
        strips: list[Strip]
        width: int
        graphic: GraphicsImage | None = None

    @dataclass
    class Failed(Message):
        """A worker could not load or draw a frame."""

        generation: int
        error: Exception

    @dataclass
    class FrameChanged(Message):
        """The preview moved to another frame (screens keep their selection in step)."""

        preview: FramePreview
        index: int
        request: FrameRequest

    @dataclass
    class WindowWanted(Message):
        """The user asked to type a width and level; `current` is the window shown now as `W L`."""

        preview: FramePreview
        current: str

    @dataclass
    class ChecksumMismatch(Message):
        """The shown frame's CRC-32 differs from the metadata's: screens should say so loudly too."""

        preview: FramePreview
        request: FrameRequest
        decoded: DecodedFrame

    def __init__(
        self,
        loader: FrameLoader,
        frames: Sequence[FrameRequest] = (),
        *,
        index: int = 0,
        colour_mode: ColourMode | None = None,
        native_ansi: bool | None = None,
        graphics: GraphicsChoice | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._loader = loader
        self._frames: list[FrameRequest] = list(frames)
        self._index = min(max(index, 0), max(len(self._frames) - 1, 0))
        self._colour_mode = colour_mode
        self._native_ansi = native_ansi
        self._graphics = graphics
        #: The frame encoded for a graphics protocol (None when drawn in half-cells).
        self.graphic: GraphicsImage | None = None
        self.settings = DisplaySettings()
        self.show_overlay = True
        self.generation = 0
        self.window: Window | None = None
        self.decoded: DecodedFrame | None = None
        self.error: Exception | None = None
        self._strips: list[Strip] = []
        #: Pixel columns of the drawn image (one per cell): the zoom is this over the frame's columns.
        self.drawn_width = 0

    # ---- state -------------------------------------------------------------------------------

    @property
    def colour_mode(self) -> ColourMode:
        """Explicit if given, else what the app's console decided (see tui/pixels_render.py)."""
        if self._colour_mode is not None:
            return self._colour_mode
        return colour_mode_for(self.app.console.color_system)

    @property
    def graphics(self) -> GraphicsChoice:
        """Explicit if given, else the session's choice (tui/graphics_detect.py); half-cells unless decided."""
        return self._graphics if self._graphics is not None else chosen()

    @property
    def native_ansi(self) -> bool:
        """True when 8-bit colours reach the terminal unchanged (no ANSIToTruecolor filter)."""
        return self._native_ansi if self._native_ansi is not None else bool(self.app.native_ansi_color)

    @property
    def index(self) -> int:
        return self._index

    @property
    def frames(self) -> list[FrameRequest]:
        return list(self._frames)

    @property
    def request(self) -> FrameRequest | None:
        return self._frames[self._index] if self._frames else None

    @property
    def rendered_request(self) -> FrameRequest | None:
        """The request whose pixels are on screen now (may lag `request` while a render runs)."""
        if self.decoded is None:
            return None
        return next((request for request in self._frames if request.key == self.decoded.key), None)

    def show_frames(self, frames: Sequence[FrameRequest], index: int = 0) -> None:
        """Replace the sequence and show frame `index` of it."""
        self._frames = list(frames)
        self._index = min(max(index, 0), max(len(self._frames) - 1, 0))
        self._frame_changed()

    def show_index(self, index: int) -> None:
        """Show frame `index` of the sequence (clamped)."""
        if not self._frames:
            return
        index = min(max(index, 0), len(self._frames) - 1)
        if index != self._index:
            self._index = index
            self._frame_changed()

    def set_settings(self, settings: DisplaySettings) -> None:
        self.settings = settings
        self.request_render()

    # ---- rendering ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self._frames:
            self.request_render()

    def on_resize(self) -> None:
        self.request_render()

    def request_render(self) -> None:
        """Start a render of the current frame at the current size; older renders become stale."""
        request = self.request
        if request is None or not self.is_mounted or self.size.width < 1 or self.size.height < 1:
            return
        self.generation += 1
        decoded = self.decoded if self.decoded is not None and self.decoded.key == request.key else None
        self._render_frame(
            _Job(self.generation, request, self.settings, self.size, decoded, self.colour_mode, self.native_ansi, self.graphics)
        )

    @work(thread=True, exclusive=True, group="frame-preview", exit_on_error=False)
    def _render_frame(self, job: _Job) -> None:
        worker = get_current_worker()
        try:
            decoded = job.decoded or self._loader(job.request)
            if worker.is_cancelled or job.generation != self.generation:
                return
            if job.graphics.mode not in (GraphicsMode.CELLS, GraphicsMode.AUTO):
                graphic, window = _encode_graphic(decoded, job)
                self.post_message(self.Rendered(job.generation, decoded, window, [], graphic.width, graphic))
                return
            rendered = render_preview(
                decoded.pixels,
                job.request.model.for_frame(decoded.colour_space),
                job.settings,
                job.size.width,
                job.size.height,
                job.mode,
                job.native_ansi,
            )
            strips = [Strip(row, rendered.width) for row in rendered.rows]
        except Exception as error:  # shown in the widget: a bad frame must not take the screen down
            self.post_message(self.Failed(job.generation, error))
            return
        self.post_message(self.Rendered(job.generation, decoded, rendered.window, strips, rendered.width))

    def on_frame_preview_rendered(self, message: Rendered) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        first_show = self.decoded is None or self.decoded.key != message.decoded.key
        self.decoded, self.window, self._strips, self.error = message.decoded, message.window, message.strips, None
        self.drawn_width, self.graphic = message.width, message.graphic
        self.refresh()
        request = self.request
        if first_show and request is not None and message.decoded.checksum.state is ChecksumState.MISMATCH:
            self.post_message(self.ChecksumMismatch(self, request, message.decoded))

    def on_frame_preview_failed(self, message: Failed) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.error, self._strips, self.decoded = message.error, [], None
        self.clear_graphic()
        self.graphic = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        background = self.rich_style
        line = self._image_line(y, width, height, background)
        for text, style, right in self._overlay_at(y, height):
            line = _overlay(line, text, style, width, right)
        raw = self._graphic_sequence(y, width, height)
        return Strip([raw, *line], width) if raw is not None else line

    def _image_line(self, y: int, width: int, height: int, background: Style) -> Strip:
        if self.graphic is not None:
            return Strip.blank(width, background)
        if not self._strips:
            message = self._placeholder()
            if y == height // 2 and message:
                text, style = message
                return Strip([Segment(visible(text)[:width], background + style)]).text_align(width, "center").apply_style(background)
            return Strip.blank(width, background)
        top = (height - len(self._strips)) // 2
        if not 0 <= y - top < len(self._strips):
            return Strip.blank(width, background)
        strip = self._strips[y - top]
        left = max((width - strip.cell_length) // 2, 0)
        return Strip.join([Strip.blank(left, background), strip]).crop_extend(0, width, background)

    def _graphic_sequence(self, y: int, width: int, height: int) -> Segment | None:
        """The image's sequence as a zero-width segment starting the row below the image, else None.

        Written after the image's own rows, so their blanks cannot wipe a Sixel or iTerm2 image, and
        with the cursor moved to the image's top-left cell and back (docs/console.md#frames-through-a-graphics-protocol).
        """
        graphic = self.graphic
        if graphic is None:
            return None
        top, left = self._graphic_origin(graphic, width, height)
        if y != top + graphic.rows or not self.screen.is_active:
            return None
        region = self.content_region
        choice = self.graphics
        sequence = (kitty_delete(_KITTY_IMAGE_ID) if graphic.mode is GraphicsMode.KITTY else "") + graphic.sequence
        to_image = Control.move_to(region.x + left, region.y + top).segment.text
        if choice.tmux:  # the outer cursor is moved inside the passthrough: tmux leaves it where it last drew
            column, row = choice.pane_origin
            outer = Control.move_to(column + region.x + left, row + region.y + top).segment.text
            sequence = tmux_wrap(outer + sequence)
        back = Control.move_to(region.x, region.y + y).segment.text
        return Segment(to_image + sequence + back, None, _RAW)

    def _graphic_origin(self, graphic: GraphicsImage, width: int, height: int) -> tuple[int, int]:
        """(row, column) of the image's top-left cell: centred in the rows the overlay leaves free."""
        free = max(height - _GRAPHICS_TOP - _GRAPHICS_BOTTOM, 1)
        return _GRAPHICS_TOP + max((free - graphic.rows) // 2, 0), max((width - graphic.cols) // 2, 0)

    def clear_graphic(self) -> None:
        """Take a Kitty image off the terminal (it is not part of the cells, so repainting does not remove it)."""
        if self.graphic is None or self.graphic.mode is not GraphicsMode.KITTY:
            return
        delete = kitty_delete(_KITTY_IMAGE_ID)
        write_raw(self.app, tmux_wrap(delete) if self.graphics.tmux else delete)

    def on_unmount(self) -> None:
        self.clear_graphic()

    def _placeholder(self) -> tuple[str, Style] | None:
        if self.error is not None:
            return f"Cannot show frame: {self.error}", self.get_component_rich_style("frame-preview--error")
        if self.request is None:
            return "No frame", self.get_component_rich_style("frame-preview--message")
        return "Loading frame…", self.get_component_rich_style("frame-preview--message")

    def _overlay_at(self, y: int, height: int) -> list[tuple[str, Style, bool]]:
        """(text, style, right-aligned) pieces drawn over row y."""
        pieces: list[tuple[str, Style, bool]] = []
        checksum = self._checksum_text()
        if checksum and y == height - 1:
            pieces.append(checksum + (True,))
        if not self.show_overlay or self.request is None:
            return pieces
        labels = self.request.labels
        style = self.get_component_rich_style("frame-preview--overlay")
        if y == 0:
            pieces += [(f" {labels.patient} ", style, False), (f" {labels.instance} ", style, True)]
        elif y == 1:
            pieces.append((f" {labels.series} ", style, False))
            size = self._size_text()
            if size:
                pieces.append((f" {size} ", style, True))
        elif y == height - 1:
            pieces.append((f" {self._window_text()} ", style, False))
        return pieces

    def _size_text(self) -> str:
        """`512×512 · zoom 19%`: the frame's columns × rows and how large it is drawn (one pixel per cell column)."""
        if self.decoded is None or self.drawn_width < 1:
            return ""
        rows, columns = self.decoded.pixels.shape[:2]
        if self.graphic is not None:
            return f"{columns}×{rows} · {self.graphic.mode.value} {_percent(self.graphic.width / columns)}"
        return f"{columns}×{rows} · zoom {_percent(self.drawn_width / columns)} · cells"

    def _window_text(self) -> str:
        if self.decoded is None:
            return "…"
        text = self.window.describe() if self.window is not None else "colour"
        return f"{text} · inverted" if self.settings.invert else text

    def _checksum_text(self) -> tuple[str, Style] | None:
        """The checksum verdict: always shown when it is a mismatch, with the overlay otherwise."""
        if self.decoded is None or self.request is None or self.decoded.key != self.request.key:
            return None
        check = self.decoded.checksum
        if check.state is ChecksumState.MISMATCH:
            return f" ⚠ {check.describe()} ", self.get_component_rich_style("frame-preview--mismatch")
        if not self.show_overlay:
            return None
        if check.state is ChecksumState.ABSENT:
            return f" {check.describe()} ", self.get_component_rich_style("frame-preview--absent")
        return f" {check.describe()} ", self.get_component_rich_style("frame-preview--overlay")

    # ---- actions -----------------------------------------------------------------------------

    def action_next_frame(self) -> None:
        self.show_index(self._index + 1)

    def action_previous_frame(self) -> None:
        self.show_index(self._index - 1)

    def action_next_instance(self) -> None:
        self.show_index(self._instance_start(1))

    def action_previous_instance(self) -> None:
        self.show_index(self._instance_start(-1))

    def action_next_preset(self) -> None:
        self._cycle(1)

    def action_previous_preset(self) -> None:
        self._cycle(-1)

    def action_choose(self, choice: str) -> None:
        self.set_settings(self.settings.with_choice(choice))

    def action_widen(self, direction: int) -> None:
        window = self._current_window()
        if window is not None:
            width = window.width * _WIDTH_STEP if direction > 0 else max(window.width / _WIDTH_STEP, 1.0)
            self.set_settings(self.settings.with_window(Window(window.center, round(width), "custom")))

    def action_shift_level(self, direction: int) -> None:
        window = self._current_window()
        if window is not None:
            step = max(round(window.width / 20), 1)
            self.set_settings(self.settings.with_window(Window(window.center + direction * step, window.width, "custom")))

    def action_type_window(self) -> None:
        """Ask the screen for a typed width and level (the prompt is a screen's to show)."""
        current = self._current_window()
        self.post_message(self.WindowWanted(self, f"{current.width:g} {current.center:g}" if current is not None else ""))

    def type_window(self, text: str) -> None:
        """Show the frame in the window typed as `text` (see parse_typed_window; ValueError when it is not one)."""
        self.set_settings(self.settings.with_window(parse_typed_window(text)))

    def action_invert(self) -> None:
        self.set_settings(DisplaySettings(self.settings.choice, self.settings.window, not self.settings.invert))

    def action_toggle_overlay(self) -> None:
        self.show_overlay = not self.show_overlay
        self.refresh()

    def _cycle(self, step: int) -> None:
        request = self.request
        has_dicom = bool(request and request.model.windows)
        current = self.settings.choice if self.settings.window is None else "custom"
        self.set_settings(self.settings.with_choice(next_choice(current, step, has_dicom)))

    def _current_window(self) -> Window | None:
        return self.settings.window or self.window

    def _instance_start(self, direction: int) -> int:
        """Index of the first frame of the next (or previous) instance."""
        if not self._frames:
            return 0
        here = self._frames[self._index].sop_instance_uid
        index = self._index
        while 0 <= index + direction < len(self._frames) and self._frames[index + direction].sop_instance_uid == here:
            index += direction
        index = min(max(index + direction, 0), len(self._frames) - 1)
        target = self._frames[index].sop_instance_uid
        while direction < 0 and index > 0 and self._frames[index - 1].sop_instance_uid == target:
            index -= 1
        return index

    def _frame_changed(self) -> None:
        request = self.request
        self.request_render()
        if request is not None:
            self.post_message(self.FrameChanged(self, self._index, request))


class ThumbnailStrip(ScopedBindings, Widget, can_focus=True):
    """A row of small previews of a series around the current frame; the current one is marked."""

    SCOPE = THUMBNAIL_SCOPE
    DEFAULT_CSS = """
    ThumbnailStrip { height: 9; background: black; }
    ThumbnailStrip > .thumbnail-strip--current { color: $accent; text-style: bold; }
    ThumbnailStrip > .thumbnail-strip--label { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"thumbnail-strip--current", "thumbnail-strip--label"}

    @dataclass
    class Selected(Message):
        """The user moved the strip's selection."""

        strip: ThumbnailStrip
        index: int

    @dataclass
    class Built(Message):
        """Thumbnails of one build; stale generations are dropped."""

        generation: int
        first: int
        thumbs: list[list[Row]]

    def __init__(
        self,
        loader: FrameLoader,
        frames: Sequence[FrameRequest] = (),
        *,
        index: int = 0,
        thumb_cols: int = 16,
        colour_mode: ColourMode | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._loader = loader
        self._frames = list(frames)
        self.index = index
        self.thumb_cols = thumb_cols
        self._colour_mode = colour_mode
        self.generation = 0
        self._first = 0
        self._thumbs: list[list[Row]] = []

    def show_frames(self, frames: Sequence[FrameRequest], index: int = 0) -> None:
        self._frames, self.index = list(frames), index
        self.request_build()

    def select(self, index: int) -> None:
        """Mark frame `index` as current, rebuilding only if it left the visible range."""
        self.index = min(max(index, 0), max(len(self._frames) - 1, 0))
        first, count = thumbnail_range(len(self._frames), self._slots(), self.index)
        if first != self._first or count != len(self._thumbs):
            self.request_build()
        self.refresh()

    def action_step(self, step: int) -> None:
        self.select(self.index + step)
        self.post_message(self.Selected(self, self.index))

    def on_mount(self) -> None:
        self.request_build()

    def on_resize(self) -> None:
        self.request_build()

    def request_build(self) -> None:
        if not self.is_mounted or not self._frames or self.size.height < 2:
            return
        self.generation += 1
        first, count = thumbnail_range(len(self._frames), self._slots(), self.index)
        mode = self._colour_mode or colour_mode_for(self.app.console.color_system)
        self._build(self.generation, first, self._frames[first : first + count], self.size.height - 1, mode)

    @work(thread=True, exclusive=True, group="thumbnail-strip", exit_on_error=False)
    def _build(self, generation: int, first: int, requests: list[FrameRequest], rows: int, mode: ColourMode) -> None:
        worker = get_current_worker()
        thumbs: list[list[Row]] = []
        for request in requests:
            if worker.is_cancelled:
                return
            try:
                decoded = self._loader(request)
                display, _ = to_display(decoded.pixels, request.model.for_frame(decoded.colour_space), DisplaySettings())
                thumbs.append(halfcell_rows(resample_to_cells(display, self.thumb_cols, rows, request.model.pixel_aspect), mode))
            except Exception:  # one unreadable frame leaves a blank slot, not a broken strip
                thumbs.append([])
        self.post_message(self.Built(generation, first, thumbs))

    def on_thumbnail_strip_built(self, message: Built) -> None:
        message.stop()
        if message.generation == self.generation:
            self._first, self._thumbs = message.first, message.thumbs
            self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        background = self.rich_style
        pieces: list[Strip] = []
        for slot, thumb in enumerate(self._thumbs):
            index = self._first + slot
            if y == height - 1:
                style = self.get_component_rich_style(
                    "thumbnail-strip--current" if index == self.index else "thumbnail-strip--label"
                )
                label = f"▲{index + 1}" if index == self.index else str(index + 1)
                piece = Strip([Segment(label, background + style)]).text_align(self.thumb_cols, "center")
            else:
                top = (height - 1 - len(thumb)) // 2
                row = thumb[y - top] if 0 <= y - top < len(thumb) else []
                piece = Strip(row).text_align(self.thumb_cols, "center") if row else Strip.blank(self.thumb_cols, background)
            pieces += [piece.apply_style(background), Strip.blank(1, background)]
        return Strip.join(pieces).crop_extend(0, width, background)

    def _slots(self) -> int:
        return max(1, (self.size.width + 1) // (self.thumb_cols + 1))


def thumbnail_range(count: int, slots: int, current: int) -> tuple[int, int]:
    """(first index, how many) of the thumbnails to show: `slots` of them, keeping `current` in view, centred."""
    shown = min(count, max(slots, 1))
    first = min(max(current - shown // 2, 0), max(count - shown, 0))
    return first, shown


def _encode_graphic(decoded: DecodedFrame, job: _Job) -> tuple[GraphicsImage, Window | None]:
    """The frame windowed exactly as the half-cell path does, encoded at its own resolution for the protocol."""
    display, window = to_display(decoded.pixels, job.request.model.for_frame(decoded.colour_space), job.settings)
    rows = max(job.size.height - _GRAPHICS_TOP - _GRAPHICS_BOTTOM, 1)
    choice = job.graphics
    return encode(display, choice.mode, job.size.width, rows, cell_pixels(), _KITTY_IMAGE_ID), window


def write_raw(app: object, text: str) -> None:
    """Send `text` straight to the terminal, outside a repaint (no-op for drivers without a terminal).

    Textual has no public call for this; its driver's write is what repaints use.
    """
    driver = getattr(app, "_driver", None)
    if driver is not None and hasattr(driver, "write"):
        driver.write(text)


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.0f}%" if ratio >= 0.1 else f"{ratio * 100:.1f}%"


def _overlay(line: Strip, text: str, style: Style, width: int, right: bool) -> Strip:
    """`line` with `text` drawn over its left or right end (DICOM labels: control and bidi characters made visible)."""
    text = visible(text[:width])[:width]
    piece = Strip([Segment(text, style)])
    length = piece.cell_length
    if right:
        return Strip.join([line.crop(0, width - length), piece])
    return Strip.join([piece, line.crop(length, width)])
