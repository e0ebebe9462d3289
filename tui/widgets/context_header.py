"""The header every screen shows: profile, account, region, endpoint, read-only and production badges."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import Static

from ahi.tui.literal import safe

SEPARATOR = " │ "
#: Shortest a cut profile name gets (with its `…`); the endpoint gets the rest.
PROFILE_MIN = 8


@dataclass(frozen=True)
class HeaderState:
    """What the header shows; the app replaces it when the connection changes."""

    profile: str = "default"
    account: str | None = None
    region: str | None = None
    endpoint: str = ""
    local: bool = False
    read_only: bool = False
    production: bool = False
    #: Keys flagged as making data stores unreadable (the KMS screen fills this in).
    alerts: int = 0


@dataclass(frozen=True)
class Layout:
    """How much of the header to spell out; `LAYOUTS` lists them from the most to the least spelled out."""

    labels: bool
    account: bool
    long_badges: bool
    scheme: bool


LAYOUTS = (
    Layout(labels=True, account=True, long_badges=True, scheme=True),
    Layout(labels=False, account=True, long_badges=True, scheme=True),
    Layout(labels=False, account=False, long_badges=True, scheme=True),
    Layout(labels=False, account=False, long_badges=False, scheme=True),
    Layout(labels=False, account=False, long_badges=False, scheme=False),
)


def badges(state: HeaderState, long: bool) -> list[Text]:
    """Read-only, production and key alerts; the short forms are what an 80-column terminal has room for."""
    found: list[Text] = []
    if state.read_only:
        found.append(Text(" READ-ONLY " if long else "RO", style="bold reverse"))
    if state.production:
        found.append(Text(" PRODUCTION " if long else "PROD", style="bold reverse"))
    if state.alerts:
        label = f" {state.alerts} key alert{'s' if state.alerts > 1 else ''} " if long else f"⚠{state.alerts} key"
        found.append(Text(label, style="bold white on red"))
    return found


def endpoint_text(state: HeaderState, scheme: bool) -> str:
    """The endpoint URL, without `https://` when room is short (the host and port say it)."""
    url = state.endpoint
    if not scheme:
        url = url.split("://", 1)[-1]
    return url


def middle_cut(value: str, width: int) -> str:
    """`value` in `width` cells, its middle replaced by `…` (a URL's host start and port end both matter)."""
    if cell_len(value) <= width:
        return value
    if width <= 1:
        return "…"[:width]
    keep = width - 1
    head = keep - keep // 2
    return value[:head] + "…" + value[len(value) - keep // 2 :] if keep // 2 else value[:head] + "…"


def end_cut(value: str, width: int) -> str:
    """`value` in `width` cells, its end replaced by `…`."""
    if cell_len(value) <= width:
        return value
    return value[: max(width - 1, 0)] + "…"


def render_header(state: HeaderState, width: int) -> Text:
    """The header line in `width` cells: profile, region and endpoint always; labels, account, long badges as room allows.

    Badges come first but never push the connection out: past the most compact layout, the profile
    and the endpoint are cut with `…` so they fit beside the short badges (docs/console.md, header).
    """
    for layout in LAYOUTS:
        text = assemble(state, layout, state.profile, endpoint_text(state, layout.scheme))
        if text.cell_len <= width:
            return text
    compact = LAYOUTS[-1]
    fixed = assemble(state, compact, "", "")
    room = max(width - fixed.cell_len - 1, 0)  # the space between `local`/`AWS` and the URL
    endpoint = endpoint_text(state, scheme=False)
    profile_room = min(cell_len(state.profile), max(PROFILE_MIN, room - cell_len(endpoint)))
    profile = end_cut(state.profile, profile_room)
    endpoint = middle_cut(endpoint, max(room - cell_len(profile), 0))
    text = assemble(state, compact, profile, endpoint)
    text.truncate(width, overflow="ellipsis")
    return text


def assemble(state: HeaderState, layout: Layout, profile: str, endpoint: str) -> Text:
    """One layout of the header, foreign values literal."""

    def field(label: str, value: Text | str) -> Text:
        return Text.assemble((f"{label} ", "dim"), value) if layout.labels else Text.assemble(value)

    parts: list[Text] = [Text("ahi", style="bold"), *badges(state, layout.long_badges)]
    parts.append(field("profile", safe(profile, multiline=False)))
    if layout.account and (layout.labels or state.account):
        parts.append(field("account", state.account or "?"))
    parts.append(field("region", safe(state.region or "?", multiline=False)))
    where = Text("local" if state.local else "AWS", style="bold")
    place = Text.assemble(where, " ", safe(endpoint, multiline=False)) if endpoint else where
    parts.append(field("endpoint", place))
    return Text(SEPARATOR).join(parts)


class ContextHeader(Static):
    """One line: `ahi │ badges │ profile │ account │ region │ endpoint`, spelled out as far as the width allows."""

    DEFAULT_CSS = """
    ContextHeader { dock: top; height: 1; background: $panel; color: $foreground; padding: 0 1; }
    ContextHeader.-production { background: $error 70%; color: $text; text-style: bold; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "header_state", self.show_state)

    def show_state(self, state: HeaderState) -> None:
        self.set_class(state.production, "-production")
        self.update(self.render_state(state))

    def on_resize(self, event: events.Resize) -> None:
        self.show_state(self.app.header_state)  # type: ignore[attr-defined]

    def render_state(self, state: HeaderState) -> Text:
        width = self.content_size.width or self.app.size.width - 2
        fmt = self.app.formatter  # type: ignore[attr-defined]
        masked = replace(
            state,
            account=fmt.text(state.account) if state.account else None,
            endpoint=fmt.text(state.endpoint) if state.endpoint else "",
        )
        return render_header(masked, width)
