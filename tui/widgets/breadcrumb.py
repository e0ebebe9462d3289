"""Where you are: the labels of the screens on the stack, root first."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ahi.tui.literal import literal

#: Longest crumb shown; the detail views show the whole name.
CRUMB_LIMIT = 40


class Breadcrumb(Static):
    """Shows `Data stores › my-store › ...`; screens give their label as `crumb`."""

    DEFAULT_CSS = """
    Breadcrumb { height: 1; padding: 0 1; color: $text-muted; }
    """

    #: The trail last drawn (redrawn only when it changes).
    _shown: Text | None = None

    def on_mount(self) -> None:
        self.follow()

    def follow(self) -> None:
        """Show the trail as it is now (a screen's label changes when its resource is renamed)."""
        trail = self.trail()
        if trail != self._shown:
            self._shown = trail
            self.update(trail)

    def trail(self) -> Text:
        """The crumbs joined, each literal and cut (a crumb is often a name or ID from AWS)."""
        crumbs = [literal(getattr(screen, "crumb"), limit=CRUMB_LIMIT) for screen in self.app.screen_stack if getattr(screen, "crumb", None)]
        return Text(" › ").join(crumbs)
