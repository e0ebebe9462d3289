"""An Input that may hold foreign text (a tag value, a DICOM value, an S3 URI): edited as it is, drawn visibly."""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text
from ahi.tui.literal import ESCAPED_STYLE, one_for_one
from ahi.tui.widgets.in_order_input import InOrderInput


class LiteralInput(InOrderInput):
    """Control, bidi and surrogate characters in the value are drawn as one visible character each
    (docs/foreign-text.md); the value, the cursor and what is sent are unchanged."""

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        shown = one_for_one(self.value)
        text = Text(shown, no_wrap=True, overflow="ignore", end="")
        for index, (original, drawn) in enumerate(zip(self.value, shown)):
            if original != drawn:
                text.stylize(ESCAPED_STYLE, index, index + 1)
        if self.highlighter is not None:
            text = self.highlighter(text)
        return text

    def _position_to_cell(self, position: int) -> int:
        return cell_len(one_for_one(self.value[:position]))

    def _cell_offset_to_index(self, offset: int) -> int:
        position = offset + self.scroll_offset[0]
        cells = 0
        for index, char in enumerate(one_for_one(self.value)):
            width = get_character_cell_size(char)
            if cells <= position < cells + width:
                return index
            cells += width
        return max(0, min(position, len(self.value)))
