"""Where you are: the labels of the screens on the stack, root first."""

from __future__ import annotations

from textual.widgets import Static


class Breadcrumb(Static):
    """Shows `Data stores › my-store › ...`; screens give their label as `crumb`."""

    DEFAULT_CSS = """
    Breadcrumb { height: 1; padding: 0 1; color: $text-muted; }
    """

    def on_mount(self) -> None:
        self.update(self.trail())

    def trail(self) -> str:
        crumbs = [str(getattr(screen, "crumb")) for screen in self.app.screen_stack if getattr(screen, "crumb", None)]
        return " › ".join(crumbs)
