"""A checkbox whose on and off differ in shape, not only in colour: `▐X▌` on, `▐ ▌` off.

Textual's checkbox draws the same `X` both ways and tells them apart by colour alone, which a
monochrome terminal (or a screenshot in a bug report) loses.
"""

from __future__ import annotations

from textual.content import Content
from textual.style import Style
from textual.widgets import Checkbox

OFF_INNER = " "


class Check(Checkbox):
    """A Checkbox drawn `▐X▌` when on and `▐ ▌` when off."""

    def render(self) -> Content:
        """The button alone when there is no label (a form that labels it elsewhere gives it three cells)."""
        if not self.label.plain:
            return self._button
        return super().render()

    @property
    def _button(self) -> Content:
        button_style = self.get_visual_style("toggle--button")
        side_style = Style(foreground=button_style.background, background=self.background_colors[1])
        return Content.assemble(
            (self.BUTTON_LEFT, side_style),
            (self.BUTTON_INNER if self.value else OFF_INNER, button_style),
            (self.BUTTON_RIGHT, side_style),
        )
