"""Foreign text (from AWS, S3 or DICOM) made safe to draw: rich `Text`, never markup, every character visible.

Anything the console shows that it did not write itself may carry terminal control sequences (ESC,
OSC 52 clipboard writes, OSC 8 links), Rich/Textual markup (`[@click=app.quit]`), bidi overrides that
reorder what the operator reads, or lone surrogates that cannot be encoded for the terminal. This module
is the one path such text takes to the screen (docs/foreign-text.md).
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

ELLIPSIS = "…"
#: Longest value a detail view shows on its own line; a foreign value can be any size.
DETAIL_LIMIT = 2000
#: The style of a character shown in escaped form, so it cannot pass for the data itself.
ESCAPED_STYLE = "reverse"

#: Unicode's control pictures (U+2400 block) for C0 and DEL: one cell each, and unmistakable.
_C0_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "\u2421"}
#: Format characters that reorder or hide text (bidi embeddings, overrides, isolates, marks) and the
#: Unicode line/paragraph separators: shown as escapes, so a name reads in the order it is stored.
_INVISIBLE = frozenset(
    [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def _escape(char: str) -> str | None:
    """The visible stand-in for one character, or None when it is safe to draw as it is."""
    code = ord(char)
    if code in _C0_PICTURES:
        return _C0_PICTURES[code]
    if 0x80 <= code <= 0x9F:
        return f"\\x{code:02x}"
    if code in _INVISIBLE:
        return f"\\u{code:04x}"
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate: unencodable, and it would end the frame it is in
        return f"\\u{code:04x}"
    return None


def visible(value: str) -> str:
    """`value` with every control, bidi and surrogate character replaced by its visible stand-in."""
    if value.isprintable() and value.isascii():
        return value
    return "".join(_escape(char) or char for char in value)


def literal(value: Any, *, limit: int | None = None, style: str = "", multiline: bool = False) -> Text:
    """`value` as `Text` that draws exactly what it contains: no markup, no control sequences.

    `limit` cuts to that many characters with `…`; `multiline` keeps line feeds as line breaks
    (each line escaped on its own) instead of showing them as `␊`.
    """
    raw = "" if value is None else str(value)
    if limit is not None:
        raw = raw[: limit + 1]  # every character draws as at least one: the rest would be cut anyway
    if multiline:
        text = Text("\n").join(literal(line) for line in raw.split("\n"))
        text.style = style
    else:
        text = Text(style=style)
        plain_run: list[str] = []
        for char in raw:
            stand_in = _escape(char)
            if stand_in is None:
                plain_run.append(char)
                continue
            if plain_run:
                text.append("".join(plain_run))
                plain_run.clear()
            text.append(stand_in, style=ESCAPED_STYLE)
        if plain_run:
            text.append("".join(plain_run))
    if limit is not None and len(text) > limit:
        text.truncate(max(limit - 1, 0))
        text.append(ELLIPSIS, style="dim")
    return text


def _needs_escape(value: str, multiline: bool) -> bool:
    if not multiline and "\n" in value:
        return True
    return not (value.isprintable() and value.isascii()) and any(char != "\n" and _escape(char) for char in value)


def safe(value: Text | str | None, *, limit: int | None = None, multiline: bool = True) -> Text:
    """Text bound for a widget: a `str` is taken literally; a `Text` keeps its styles, its unsafe characters escaped.

    For text the console composes around foreign values (`Text.assemble`, f-strings): whatever slipped in
    unescaped is escaped here, so no path to a widget carries a control sequence or markup.
    """
    if value is None or isinstance(value, str):
        return literal(value, limit=limit, multiline=multiline)
    text = value
    if limit is not None and len(text) > limit + 1:
        text = text[: limit + 1]
    if _needs_escape(text.plain, multiline):
        text = _escaped_styled(text, multiline)
    if limit is not None and len(text) > limit:
        text = text.copy()
        text.truncate(max(limit - 1, 0))
        text.append(ELLIPSIS, style="dim")
    return text


def _escaped_styled(text: Text, multiline: bool) -> Text:
    """`text` with each unsafe character replaced by its stand-in, every span kept over what it covered."""
    out = Text(style=text.style, justify=text.justify, overflow=text.overflow, no_wrap=text.no_wrap, end=text.end)
    bounds = sorted({0, len(text.plain), *(s.start for s in text.spans), *(s.end for s in text.spans)})
    for start, end in zip(bounds, bounds[1:]):
        piece = literal(text.plain[start:end], multiline=multiline)
        offset = len(out)
        out.append_text(piece)
        for span in text.spans:
            if span.start <= start and span.end >= end:
                out.stylize(span.style, offset, len(out))
    return out


def visible_lines(value: object, *, limit: int | None = None) -> str:
    """`value` as a plain string with line breaks kept and every other unsafe character made visible (for notifications)."""
    raw = "" if value is None else str(value)
    if limit is not None and len(raw) > limit:
        raw = raw[: max(limit - 1, 0)] + ELLIPSIS
    return "\n".join(visible(line) for line in raw.split("\n"))



def literal_row(table: Table, *cells: Text | str | None) -> None:
    """Add a row to a Rich `Table` with every cell literal (a `str` cell would otherwise be read as markup)."""
    table.add_row(*(safe(cell, limit=DETAIL_LIMIT) for cell in cells))


def one_for_one(value: str) -> str:
    """`value` with each unsafe character replaced by one visible character (for editable text).

    An editor keeps the value as it is and its cursor counts characters, so each stand-in is exactly one
    character: control pictures for C0 and DEL, `�` for C1, bidi and surrogate characters.
    """
    if value.isprintable() and value.isascii():
        return value
    return "".join(char if _escape(char) is None else _C0_PICTURES.get(ord(char), "\ufffd") for char in value)
