"""What the image set detail and metadata screens share: the image set they are about, its lock,
writes that follow the lock, and tagging aimed at the image set itself."""

from __future__ import annotations

from typing import Any, Callable

from textual import on

from ahi.screens.taggable import TaggableScreen
from ahi.services.imagesets import ImageSetState
from ahi.services.metadata_patch import MetadataUpdate
from ahi.services.tags import TagTarget
from ahi.services.tiers import access_notice, touched
from ahi.tui.widgets.lock_banner import Following, LockBanner


def note_access(app: Any, image_set_id: str) -> None:
    """Tell every screen on the stack that an image set was just read, so each shows it in Frequent Access
    (docs/version-diff.md#tiers): screens that show tiers define `image_set_accessed(image_set_id)`."""
    for screen in list(app.screen_stack):
        accessed = getattr(screen, "image_set_accessed", None)
        if callable(accessed):
            accessed(image_set_id)


class ImageSetScreen(TaggableScreen):
    """A screen about one image set; subclasses compose a LockBanner and keep `latest` current."""

    AUTO_REFRESH = False

    def __init__(self, datastore_id: str, image_set_id: str) -> None:
        super().__init__()
        self.datastore_id = datastore_id
        self.image_set_id = image_set_id
        self.latest: ImageSetState | None = None

    @property
    def banner(self) -> LockBanner:
        return self.query_one(LockBanner)

    # --- tagging targets the image set, whatever row the cursor is on ---------------------------------

    def tag_target_of(self, resource: Any) -> TagTarget | None:
        arn = self.latest.arn if self.latest is not None else None
        return TagTarget(arn, self.image_set_id) if arn else None

    def targets_by_row(self) -> dict[str, TagTarget]:
        target = self.tag_target_of(None)
        return {self.image_set_id: target} if target is not None else {}

    # --- the lock -------------------------------------------------------------------------------

    def follow_if_locked(self, latest: ImageSetState) -> None:
        """Found LOCKED on load (someone else's write, or ours before a restart): follow it too."""
        self.latest = latest
        if latest.locked and not self.banner.active:
            self.banner.follow("a write in progress", latest)

    def writable_latest(self) -> ImageSetState | None:
        """The latest version when a write may start now; otherwise say why and return None."""
        latest = self.latest
        if latest is None:
            self.notify("Still loading the image set", severity="warning")
            return None
        if latest.locked or self.banner.active:
            status = (self.banner.last_state or latest).workflow_status or "LOCKED"
            self.notify(f"The image set is LOCKED ({status}); no other write can start until it ends", severity="warning")
            return None
        if latest.state == "DELETED":
            self.notify("The image set is deleted", severity="warning")
            return None
        return latest

    def warn_access(self) -> None:
        """Before a read that counts as access: say so if it moves the image set out of Archive Instant Access
        (docs/version-diff.md#tiers)."""
        notice = access_notice(self.image_set_id, self.latest.storage_tier if self.latest is not None else None)
        if notice is not None:
            self.notify(notice, title="storage tier", severity="warning")
        # The read starts at once; our choice is to show the move now rather than when the read ends
        # (should the read fail, the next refresh shows the service's tier again).
        note_access(self.app, self.image_set_id)

    def image_set_accessed(self, image_set_id: str) -> None:
        """An access moved the image set to Frequent Access: keep `latest` so, and redraw what shows it."""
        if image_set_id == self.image_set_id and self.latest is not None and touched(self.latest) is not self.latest:
            self.latest = touched(self.latest)
            self.tier_moved()

    def tier_moved(self) -> None:
        """Redraw what shows the tier (nothing here)."""

    def follow(self, operation: str, state: ImageSetState) -> None:
        if state.id == self.image_set_id:
            self.latest = state
        self.banner.follow(operation, state)
        self.update_status()

    def send_update(self, operation: str, update: MetadataUpdate, latest: ImageSetState) -> None:
        """UpdateImageSetMetadata at `latest`'s version, then follow the new version until it settles."""
        service = self.ahi.services.imagesets
        version = latest.version_id or ""
        self.call_in_background(
            "UpdateImageSetMetadata",
            lambda: service.update(self.datastore_id, self.image_set_id, version, update),
            lambda state: self.follow(operation, state),
        )

    def with_latest_metadata(self, then: Callable[[Any], None]) -> None:
        """Load the latest version's metadata (off the UI thread; a read that moves the tier says so), then call `then(MetadataDocument)`."""
        latest = self.writable_latest()
        if latest is None:
            return
        self.warn_access()
        service = self.ahi.services.imagesets
        self.call_in_background(
            "GetImageSetMetadata", lambda: service.metadata(self.datastore_id, self.image_set_id, latest.version_id), then
        )

    @on(LockBanner.Settled)
    def _settled(self, message: LockBanner.Settled) -> None:
        message.stop()
        self.after_settled(message.following, message.state)

    def after_settled(self, following: Following, state: ImageSetState | None) -> None:
        """Say how the write ended and load again."""
        if state is None or state.state == "DELETED":
            self.notify(f"Image set {self.ahi.formatter.text(following.image_set_id)} is deleted", title="DELETED")
        elif state.failed:
            self.notify(f"{state.workflow_status}: {state.message or 'no message'}", title=f"{following.operation} failed", severity="error", timeout=20)
        else:
            self.notify(f"{state.workflow_status} · version {state.version_id}", title=f"{following.operation} done")
        self.refresh_soon()

    def refresh_soon(self) -> None:
        """Refresh now, or as soon as the refresh in flight has ended."""
        if self._in_flight:
            self.set_timer(0.1, self.refresh_soon)
        else:
            self.refresh_now()
