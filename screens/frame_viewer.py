"""Frame preview of an image set: one series at a time in InstanceNumber order, with a thumbnail strip.

Frames come through GetImageFrame, are decoded and CRC-checked in workers (services.frames) and drawn
by the FramePreview widget; a checksum mismatch is announced as an error as well as drawn in red.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from textual import on
from textual.widget import Widget

from ahi.screens.prompt_dialog import PromptDialog
from ahi.services.frame_metadata import FrameRequest, series_frames
from ahi.services.frames import DecodedFrame, FrameSource
from ahi.services.imagesets import ImageSetState, readable_version
from ahi.services.windowing import parse_typed_window
from ahi.tui.actions import REGISTRY, Action
from ahi.tui.screen_base import AhiScreen
from ahi.tui.widgets.frame_preview import SCOPE as PREVIEW_SCOPE
from ahi.tui.widgets.frame_preview import THUMBNAIL_SCOPE, FramePreview, ThumbnailStrip

SCOPE = "frame_viewer"
REGISTRY.register(
    Action("frame_viewer.next_series", "next_series", "n", "Next series", SCOPE),
    Action("frame_viewer.previous_series", "previous_series", "N", "Previous series", SCOPE, footer=False),
    Action("frame_viewer.thumbnails", "toggle_thumbnails", "t", "Thumbnails", SCOPE, footer=False),
)


@dataclass(frozen=True)
class SeriesFrames:
    """One series of the image set and its frames in display order."""

    uid: str
    label: str
    frames: list[FrameRequest]


@dataclass(frozen=True)
class FrameSet:
    """What the viewer loaded: the version shown and its series with frames."""

    state: ImageSetState
    series: list[SeriesFrames]


def thumbnail_height(screen_rows: int) -> int:
    """Rows of the thumbnail strip (its border included): a quarter of the screen, 4 to 9, so the frame keeps most of it."""
    return max(4, min(9, screen_rows // 4))


def frames_by_series(document: Mapping[str, Any], version_id: str) -> list[SeriesFrames]:
    """The frames of series_frames (SeriesNumber, InstanceNumber, frame order) grouped by their series."""
    series_of = {
        sop_uid: series_uid
        for series_uid, series in ((document.get("Study") or {}).get("Series") or {}).items()
        for sop_uid in (series.get("Instances") or {})
    }
    grouped: dict[str, list[FrameRequest]] = {}
    for request in series_frames(document, version_id):
        grouped.setdefault(series_of.get(request.sop_instance_uid, ""), []).append(request)
    return [SeriesFrames(uid, frames[0].labels.series, frames) for uid, frames in grouped.items()]


class FrameViewerScreen(AhiScreen):
    """`v` from the search results, the detail or the metadata tree; Esc goes back."""

    CSS_PATH = "frame_viewer.tcss"
    SCOPE = SCOPE
    FETCH_OPERATION = "GetImageSetMetadata"
    AUTO_REFRESH = False

    def __init__(self, datastore_id: str, image_set_id: str, version_id: str | None = None, sop_uid: str | None = None) -> None:
        super().__init__()
        self.datastore_id = datastore_id
        self.image_set_id = image_set_id
        self.version_id = version_id
        self.sop_uid = sop_uid
        self.crumb = "Preview"
        self.series: list[SeriesFrames] = []
        self.series_index = 0
        self.state: ImageSetState | None = None
        self.mismatches: list[FrameRequest] = []
        self._source: FrameSource | None = None

    def scopes(self) -> list[str]:
        return [*super().scopes(), PREVIEW_SCOPE, THUMBNAIL_SCOPE]

    def compose_body(self) -> Iterable[Widget]:
        hub = self.ahi.services
        self._source = FrameSource(hub.frame_fetcher(self.datastore_id), cache=hub.frame_cache)
        yield FramePreview(self.load_frame, id="preview")
        yield ThumbnailStrip(self.load_frame, id="thumbnails")

    def load_frame(self, request: FrameRequest) -> DecodedFrame:
        """Fetch, decode and verify one frame (blocking: the widgets call it in their workers)."""
        assert self._source is not None
        shape = (request.rows, request.columns) if request.rows and request.columns else None
        return self._source.load(request.key, request.expected_checksum, request.model.photometric, shape)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(FramePreview).focus()
        self.query_one(ThumbnailStrip).styles.height = thumbnail_height(self.app.size.height)

    def on_resize(self) -> None:
        self.query_one(ThumbnailStrip).styles.height = thumbnail_height(self.app.size.height)

    def on_screen_suspend(self) -> None:
        """A Kitty image lies over the cells, so it must leave with the screen (a dialog or another screen)."""
        self.query_one(FramePreview).clear_graphic()

    def on_screen_resume(self) -> None:
        self.query_one(FramePreview).refresh()

    def fetch(self) -> FrameSet:
        imagesets = self.ahi.services.imagesets
        state = imagesets.get(self.datastore_id, self.image_set_id, self.version_id)
        version = self.version_id or readable_version(state) or "1"
        document = imagesets.metadata(self.datastore_id, self.image_set_id, version).document
        return FrameSet(state, frames_by_series(document, version))

    def show(self, result: FrameSet) -> None:
        self.state, self.series = result.state, result.series
        if not self.series:
            self.notify("This image set has no frames", severity="warning")
            return
        start_series, start_index = 0, 0
        if self.sop_uid:
            for position, series in enumerate(self.series):
                hits = [i for i, request in enumerate(series.frames) if request.sop_instance_uid == self.sop_uid]
                if hits:
                    start_series, start_index = position, hits[0]
                    break
        self._show_series(start_series, start_index)

    def _show_series(self, position: int, index: int = 0) -> None:
        self.series_index = position
        frames = self.series[position].frames
        self.query_one(FramePreview).show_frames(frames, index)
        self.query_one(ThumbnailStrip).show_frames(frames, index)
        self.update_status()

    def current_resource(self) -> ImageSetState | None:
        return self.state

    def status_parts(self) -> list[str]:
        parts: list[str] = []
        if self.series:
            series = self.series[self.series_index]
            preview = self.query_one(FramePreview)
            parts.append(f"series {self.series_index + 1}/{len(self.series)}: {series.label}")
            parts.append(f"frame {preview.index + 1}/{len(series.frames)}")
        if self.mismatches:
            parts.append(f"⚠ {len(self.mismatches)} checksum mismatch(es)")
        cache = self.ahi.services.frame_cache
        parts.append(f"cache {len(cache)} frames, {cache.used_bytes // (1024 * 1024)} MiB")
        return parts + super().status_parts()

    def action_next_series(self) -> None:
        if self.series:
            self._show_series((self.series_index + 1) % len(self.series))

    def action_previous_series(self) -> None:
        if self.series:
            self._show_series((self.series_index - 1) % len(self.series))

    def action_toggle_thumbnails(self) -> None:
        strip = self.query_one(ThumbnailStrip)
        strip.display = not strip.display
        if strip.display:
            strip.request_build()

    @on(FramePreview.FrameChanged)
    def _frame_changed(self, message: FramePreview.FrameChanged) -> None:
        self.query_one(ThumbnailStrip).select(message.index)
        self.update_status()

    @on(ThumbnailStrip.Selected)
    def _thumbnail_selected(self, message: ThumbnailStrip.Selected) -> None:
        self.query_one(FramePreview).show_index(message.index)

    @on(FramePreview.WindowWanted)
    def _window_wanted(self, message: FramePreview.WindowWanted) -> None:
        def check(text: str) -> str | None:
            try:
                parse_typed_window(text)
            except ValueError as error:
                return str(error)
            return None

        def typed(text: str | None) -> None:
            if text is not None:
                message.preview.type_window(text)

        hint = "Width then level, in modality units (HU for CT): 80 40 brain, 400 50 soft tissue."
        self.app.push_screen(PromptDialog("Window width and level", hint, message.current, check), typed)

    @on(FramePreview.ChecksumMismatch)
    def _mismatch(self, message: FramePreview.ChecksumMismatch) -> None:
        if message.request not in self.mismatches:
            self.mismatches.append(message.request)
        self.notify(
            f"{message.request.labels.instance}: {message.decoded.checksum.describe()}",
            title="CHECKSUM MISMATCH",
            severity="error",
            timeout=30,
        )
        self.update_status()
