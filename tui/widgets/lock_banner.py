"""A banner that follows an image set while it is LOCKED and then says how the write ended.

Update, copy and delete answer LOCKED at once (docs/service.md#image-set-states); the banner polls GetImageSet in a
thread worker, one call at a time, until the state leaves LOCKED, then shows UPDATED / COPIED /
DELETED in green or the failed status with the service's `message` in red, and posts `Settled`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from ahi.services.errors import AwsCallError
from ahi.services.imagesets import ImageSetState, settled
from ahi.tui.literal import DETAIL_LIMIT, safe

if TYPE_CHECKING:
    from ahi.tui.app import AhiApp

FOLLOW_INTERVAL_S = 0.5
#: Each poll while still LOCKED waits this much longer, up to ten times the first interval (5 s):
#: a copy of a large image set can stay LOCKED for minutes, and a thousand GetImageSet calls help nobody.
FOLLOW_BACKOFF = 1.5


@dataclass(frozen=True)
class Following:
    """What is being followed: which image set, after which operation, since when."""

    operation: str
    datastore_id: str
    image_set_id: str
    started: float


class LockBanner(Static):
    """Hidden until `follow` or `show_state`; one line of state, coloured by outcome."""

    DEFAULT_CSS = """
    LockBanner { display: none; height: auto; margin: 0 1; padding: 0 1; }
    LockBanner.-visible { display: block; }
    LockBanner.-locked { background: $warning 25%; color: $text; }
    LockBanner.-done { background: $success 25%; color: $text; }
    LockBanner.-failed { background: $error 35%; color: $text; text-style: bold; }
    """
    #: Seconds between GetImageSet calls while LOCKED (class attribute so tests may shorten it).
    interval_s: ClassVar[float] = FOLLOW_INTERVAL_S

    @dataclass
    class Settled(Message):
        """The followed image set left LOCKED; `state` is None when it no longer exists."""

        banner: LockBanner
        following: Following
        state: ImageSetState | None

    @dataclass
    class Polled(Message):
        following: Following
        state: ImageSetState | None
        error: AwsCallError | None = None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.following: Following | None = None
        self.last_state: ImageSetState | None = None
        self._delay_s = self.interval_s

    @property
    def ahi(self) -> AhiApp:
        return self.app  # type: ignore[return-value]

    @property
    def active(self) -> bool:
        return self.following is not None

    def follow(self, operation: str, state: ImageSetState) -> None:
        """Start following `state`'s image set (its answer to `operation` is shown at once)."""
        self.following = Following(operation, state.datastore_id, state.id, self.ahi.clock.monotonic())
        self._show(state)
        if settled(state):
            self._finish(state)
        else:
            self._delay_s = self.interval_s
            self.set_timer(self._delay_s, self._poll)

    def stop(self) -> None:
        self.following = None

    def _poll(self) -> None:
        if self.following is not None:
            self._fetch(self.following)

    @work(thread=True, exclusive=True, group="lock-banner", exit_on_error=False)
    def _fetch(self, following: Following) -> None:
        try:
            state = self.ahi.services.imagesets.get_or_none(following.datastore_id, following.image_set_id)
        except AwsCallError as error:
            self.post_message(self.Polled(following, None, error))
            return
        self.post_message(self.Polled(following, state))

    def on_lock_banner_polled(self, message: Polled) -> None:
        message.stop()
        if message.following != self.following:
            return
        if message.error is not None:
            self._set("-failed", Text(f"Stopped following: GetImageSet answered {message.error.code}: {message.error.message}"))
            self.following = None
            return
        if settled(message.state):
            self._finish(message.state)
        else:
            assert message.state is not None
            self._show(message.state)
            self._delay_s = min(self._delay_s * FOLLOW_BACKOFF, self.interval_s * 10)
            self.set_timer(self._delay_s, self._poll)

    def _finish(self, state: ImageSetState | None) -> None:
        following = self.following
        self.following = None
        self.show_state(state, following.operation if following else "")
        if following is not None:
            self.post_message(self.Settled(self, following, state))

    def _show(self, state: ImageSetState) -> None:
        """The running operation, while LOCKED."""
        self.last_state = state
        elapsed = self.ahi.clock.monotonic() - self.following.started if self.following else 0.0
        text = Text.assemble(
            ("⟳ LOCKED", "bold"),
            f" · {state.workflow_status or '?'} · version {state.version_id or '?'}",
            (f" — following ({elapsed:.0f} s)", "italic"),
        )
        self._set("-locked", text)

    def show_state(self, state: ImageSetState | None, operation: str = "") -> None:
        """The outcome of a write (or the state found on load) in one line."""
        self.last_state = state
        if state is None:
            self._set("-done", Text.assemble(("✓ DELETED", "bold"), " · the image set no longer exists"))
            return
        if state.locked:
            self._show(state)
            return
        status = state.workflow_status or state.state
        where = f" · version {state.version_id}" if state.version_id else ""
        if state.failed:
            self._set("-failed", Text.assemble((f"✗ {status}", "bold"), where, f" · {state.message or 'no message'}"))
            return
        done = Text.assemble((f"✓ {status}", "bold"), where, f" · {state.state}")
        if operation:
            done.append(f" (after {operation})", style="dim")
        if state.message:
            done.append(f" · {state.message}")
        self._set("-done", done)

    def _set(self, variant: str, text: Text) -> None:
        self.remove_class("-locked", "-done", "-failed")
        self.add_class("-visible", variant)
        self.update(safe(text, limit=DETAIL_LIMIT, multiline=False))
