"""How values look on screen; one place, so tests can mask what varies between runs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from rich.text import Text

from ahi.tui.literal import literal

EMPTY = "—"
ROLE_STYLES = {"primary": "bold green", "non-primary": "yellow"}


def role_text(is_primary: bool | None) -> Text:
    """An image set's role as a word, `primary` or `non-primary` (colour only repeats it); unstated as `—`."""
    if is_primary is None:
        return Text(EMPTY)
    role = "primary" if is_primary else "non-primary"
    return Text(role, style=ROLE_STYLES[role])


@dataclass
class Formatter:
    """Formats IDs, ARNs, times and JSON; `masks` replaces volatile substrings (tests only)."""

    masks: dict[str, str] = field(default_factory=dict)
    #: Shown instead of every timestamp when set (tests only: the endpoint's clock is real).
    fixed_time: str | None = None

    def text(self, value: Any) -> str:
        if value is None or value == "":
            return EMPTY
        out = str(value)
        for real, shown in self.masks.items():
            out = out.replace(real, shown)
        return out

    def literal(self, value: Any, *, limit: int | None = None, style: str = "", multiline: bool = False) -> Text:
        """Foreign `value` as Text that draws literally (tui/literal.py), masks applied, `—` when empty."""
        return literal(self.text(value), limit=limit, style=style, multiline=multiline)

    def time(self, value: datetime | None) -> str:
        if value is None:
            return EMPTY
        if self.fixed_time is not None:
            return self.fixed_time
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    def ago(self, seconds: float) -> str:
        seconds = max(0, int(seconds))
        if seconds < 60:
            return f"{seconds} s ago"
        if seconds < 3600:
            return f"{seconds // 60} min ago"
        return f"{seconds // 3600} h ago"

    def json(self, document: Mapping[str, Any]) -> str:
        def default(value: Any) -> str:
            if isinstance(value, datetime):
                return self.time(value) if self.fixed_time else value.isoformat()
            if isinstance(value, bytes):
                return f"<{len(value)} bytes>"
            return str(value)

        return self.text(json.dumps(document, indent=2, default=default, sort_keys=True))
