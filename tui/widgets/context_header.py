"""The header every screen shows: profile, account, region, endpoint, read-only and production badges."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from ahi.tui.literal import safe


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


class ContextHeader(Static):
    """One line: `ahi │ badges │ profile │ account │ region │ endpoint` (badges first: narrow terminals cut the end)."""

    DEFAULT_CSS = """
    ContextHeader { dock: top; height: 1; background: $panel; color: $foreground; padding: 0 1; }
    ContextHeader.-production { background: $error 70%; color: $text; text-style: bold; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "header_state", self.show_state)

    def show_state(self, state: HeaderState) -> None:
        self.set_class(state.production, "-production")
        self.update(self.render_state(state))

    def render_state(self, state: HeaderState) -> Text:
        fmt = self.app.formatter  # type: ignore[attr-defined]
        parts: list[Text] = [Text("ahi", style="bold")]
        if state.read_only:
            parts.append(Text(" READ-ONLY ", style="bold reverse"))
        if state.production:
            parts.append(Text(" PRODUCTION ", style="bold reverse"))
        if state.alerts:
            parts.append(Text(f" {state.alerts} key alert{'s' if state.alerts > 1 else ''} ", style="bold white on red"))
        parts.append(Text.assemble(("profile ", "dim"), state.profile))
        parts.append(Text.assemble(("account ", "dim"), state.account or "?"))
        parts.append(Text.assemble(("region ", "dim"), state.region or "?"))
        where = "local" if state.local else "AWS"
        parts.append(Text.assemble(("endpoint ", "dim"), (where, "bold"), " ", fmt.text(state.endpoint)))
        return safe(Text(" │ ").join(parts), multiline=False)
