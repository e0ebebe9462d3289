"""What every console screen shares: chrome, refresh loop, workers, filter, copy and raw JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from ahi.services.errors import AwsCallError
from ahi.tui.actions import REGISTRY, Confirm, ScopedBindings, refused_by_key
from ahi.tui.dialogs.confirm import ConfirmDialog
from ahi.tui.literal import literal
from ahi.tui.messages import AwsCallFailed, CallDone, Fetched, FetchedPart
from ahi.tui.widgets.breadcrumb import Breadcrumb
from ahi.tui.widgets.context_header import ContextHeader
from ahi.tui.widgets.error_panel import ErrorPanel
from ahi.tui.widgets.key_footer import KeyFooter
from ahi.tui.widgets.prompt_bar import CommandLine, FilterBar, PromptBar
from ahi.tui.widgets.resource_table import ResourceTable

if TYPE_CHECKING:
    from ahi.tui.app import AhiApp

#: Longest status line drawn (it can quote a series label or a filter).
STATUS_LIMIT = 400


class StatusLine(Static):
    """Counts, filter, sort and "refreshed 12 s ago" for the current screen."""

    DEFAULT_CSS = "StatusLine { height: 1; padding: 0 1; color: $text-muted; background: $panel; }"


class AhiScreen(ScopedBindings, Screen[None]):
    """Base of every console screen; subclasses give `compose_body`, `fetch` (thread) and `show` (UI)."""

    BINDINGS: ClassVar[list[BindingType]] = REGISTRY.bindings("screen")
    #: This screen's own action scope: its actions are registered under it, and a subclass that names it
    #: gets the scope's keys as BINDINGS (ScopedBindings).
    SCOPE: ClassVar[str] = ""
    #: The operation named when `fetch` fails with something that is not an AwsCallError.
    FETCH_OPERATION: ClassVar[str] = "refresh"
    #: Whether this screen reloads itself every refresh interval.
    AUTO_REFRESH: ClassVar[bool] = True
    #: Screen-scope actions that do nothing here (its rows carry no such value): refused, so help leaves them out.
    UNUSED_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    crumb: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.last_refreshed: float | None = None
        self.paused = False
        self._in_flight = False
        #: A change was made while a refresh ran: that refresh may predate it, so one more follows.
        self._refresh_again = False
        #: When the next automatic refresh is due (app clock, monotonic); None when none is armed.
        self.refresh_due: float | None = None

    @property
    def ahi(self) -> AhiApp:
        return self.app  # type: ignore[return-value]

    def scopes(self) -> list[str]:
        """Action scopes active on this screen, most general first."""
        return ["app", "screen", "table", *([self.SCOPE] if self.SCOPE else [])]

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        yield Breadcrumb()
        yield ErrorPanel()
        yield from self.compose_body()
        yield FilterBar(id="filter-bar")
        yield CommandLine(self.ahi.complete_command, id="command-line")
        yield StatusLine(id="status-line")
        yield KeyFooter()

    def compose_body(self) -> Iterable[Widget]:
        return []

    def on_mount(self) -> None:
        self._restore_sort()
        self.set_interval(1, self.tick)
        self.refresh_now()

    @property
    def view_key(self) -> str | None:
        """Where this screen's table sort is remembered between runs (None: no table)."""
        if self.table is None or self.table.id is None:
            return None
        return f"{self.SCOPE or type(self).__name__}/{self.table.id}"

    def _restore_sort(self) -> None:
        key, table = self.view_key, self.table
        saved = self.ahi.view_state.sort_of(key) if key is not None else None
        if table is not None and saved is not None and saved.column in {c.key for c in table.resource_columns}:
            table.sort_by(saved.column, saved.reverse)

    def tick(self) -> None:
        """Once a second: update "refreshed N s ago", and start a refresh that has come due."""
        due = self.refresh_due
        if due is not None and self.ahi.clock.monotonic() >= due and self.app.screen is self:
            self.refresh_now()
        self.update_status()

    def on_key(self, event: events.Key) -> None:
        """In read-only mode a mutating action's key is refused out loud, by the gate the command line uses."""
        if not self.ahi.read_only:
            return
        action = refused_by_key(event.key, self.scopes(), self.ahi.keymap)
        if action is not None:
            event.stop()
            event.prevent_default()
            self.ahi.refuse_if_read_only(action)

    def on_screen_resume(self) -> None:
        self.update_status()

    # --- refresh loop -------------------------------------------------------------------------

    def fetch(self) -> Any:
        """Load this screen's data; runs in a thread worker, so it must not touch widgets."""
        return None

    def show(self, result: Any) -> None:
        """Put fetched data on screen (UI thread)."""

    def show_early(self, result: Any) -> None:
        """From `fetch`: put a first part of the result on screen while the fetch goes on."""
        self.post_message(FetchedPart(result))

    def refresh_now(self) -> None:
        """Start a refresh unless one is running (refreshes never overlap)."""
        if self._in_flight:
            return
        self.refresh_due = None
        self._in_flight = True
        self.update_status()
        self._fetch_in_thread()

    @work(thread=True, exit_on_error=False, group="fetch")
    def _fetch_in_thread(self) -> None:
        try:
            result = self.fetch()
        except Exception as exc:
            self.post_message(AwsCallFailed(AwsCallError.from_exception(self.FETCH_OPERATION, exc), "refresh"))
        else:
            self.post_message(Fetched(result))

    @on(Fetched)
    def _fetched(self, message: Fetched) -> None:
        message.stop()
        self._in_flight = False
        self.last_refreshed = self.ahi.clock.monotonic()
        self.query_one(ErrorPanel).clear()
        self.show(message.result)
        self._arm()
        self.update_status()
        self.ahi.first_listing_done()
        self._refresh_if_asked_meanwhile()

    @on(FetchedPart)
    def _fetched_part(self, message: FetchedPart) -> None:
        message.stop()
        self.show(message.result)
        self.update_status()

    @on(AwsCallFailed)
    def _failed(self, message: AwsCallFailed) -> None:
        message.stop()
        self.query_one(ErrorPanel).show_error(message.error, message.during)
        if message.during == "refresh":
            self._in_flight = False
            self._arm()
            self.ahi.first_listing_done()
            self._refresh_if_asked_meanwhile()
        else:
            self.notify(f"{message.error.operation}: {message.error.code}", severity="error", title="AWS call failed")
        self.update_status()

    def refresh_after_change(self) -> None:
        """After a change made here: refresh now, or right after the running refresh, which may predate it."""
        if self._in_flight:
            self._refresh_again = True
        else:
            self.refresh_now()

    def _refresh_if_asked_meanwhile(self) -> None:
        if self._refresh_again:
            self._refresh_again = False
            self.refresh_now()

    def _arm(self) -> None:
        """Re-arm the auto-refresh; only ever after the previous refresh has ended."""
        interval = self.ahi.refresh_s
        if self.AUTO_REFRESH and interval > 0 and not self.paused:
            self.refresh_due = self.ahi.clock.monotonic() + interval
        else:
            self.refresh_due = None

    def update_status(self) -> None:
        if not self.is_mounted:
            return
        self.query_one(Breadcrumb).follow()
        self.query_one(StatusLine).update(literal("  ·  ".join(part for part in self.status_parts() if part), limit=STATUS_LIMIT))

    def status_parts(self) -> list[str]:
        parts: list[str] = []
        table = self.table
        if table is not None:
            parts.append(f"{len(table.visible_rows)}/{len(table.rows_all)} rows")
            if table.marked:
                parts.append(f"{len(table.marked)} marked")
            if table.filter_text:
                parts.append(f"filter (local): {table.filter_text}")
            if table.sort_column:
                parts.append(f"sort: {table.column_labels[table.sort_column]} {'▼' if table.sort_reverse else '▲'}")
        if self._in_flight:
            parts.append("refreshing…")
        elif self.last_refreshed is not None:
            parts.append("refreshed " + self.ahi.formatter.ago(self.ahi.clock.monotonic() - self.last_refreshed))
        if self.AUTO_REFRESH:
            if self.paused:
                parts.append("auto-refresh paused (p)")
            elif self.ahi.refresh_s > 0:
                parts.append(f"auto {self.ahi.refresh_s:g} s")
            else:
                parts.append("auto-refresh off")
        return parts

    def command_argument(self, argument: str | None) -> None:
        """`:<this screen> ARG` while already here; by default the argument becomes the filter."""
        if argument and self.table is not None:
            self.table.set_filter(argument)
            self.update_status()

    def reset(self) -> None:
        """Forget what is shown (the connection changed) and load again."""
        if self.table is not None:
            self.table.set_rows([])
        self.last_refreshed = None
        self.refresh_now()

    # --- one-off calls ------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="call")
    def call_in_background(self, operation: str, call: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Run one AWS call off the UI thread; `then(result)` runs on the UI thread when it succeeds."""
        try:
            result = call()
        except Exception as exc:
            self.post_message(AwsCallFailed(AwsCallError.from_exception(operation, exc), operation))
        else:
            self.post_message(CallDone(result, then))

    @on(CallDone)
    def _call_done(self, message: CallDone) -> None:
        message.stop()
        message.then(message.result)

    def confirm_then(self, action_id: str, resource_label: str, resource_id: str, proceed: Callable[[], None]) -> None:
        """Ask as the action's confirmation spec says, then run `proceed` if confirmed."""
        action = REGISTRY[action_id]
        if action.confirm is Confirm.NONE:
            proceed()
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                proceed()

        self.app.push_screen(ConfirmDialog(action, resource_label, resource_id), answered)

    # --- gating ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("filter", "export_table") and self.table is None:
            return False
        if action in self.UNUSED_ACTIONS or (action == "pause" and not self.AUTO_REFRESH):
            return False
        return self.ahi.action_allowed(action, self.scopes())

    # --- the current resource -------------------------------------------------------------------

    @property
    def table(self) -> ResourceTable | None:
        tables = list(self.query(ResourceTable))
        return tables[0] if tables else None

    def current_resource(self) -> Any:
        """The resource the cursor is on (rows carry it); detail screens return their own."""
        table = self.table
        row = table.current_row if table is not None else None
        return row.resource if row is not None else None

    def action_raw_json(self) -> None:
        resource = self.current_resource()
        raw = getattr(resource, "raw", None)
        if not raw:
            self.notify("Nothing selected", severity="warning")
            return
        from ahi.tui.dialogs.json_view import JsonDialog  # rich.syntax and pygments: not needed before a first `y`

        self.app.push_screen(JsonDialog(f"{getattr(resource, 'id', '')} — last API response", raw))

    def action_copy_id(self) -> None:
        self._copy("ID", getattr(self.current_resource(), "id", None))

    def action_copy_arn(self) -> None:
        self._copy("ARN", getattr(self.current_resource(), "arn", None))

    def _copy(self, what: str, value: str | None) -> None:
        if not value:
            self.notify(f"No {what} to copy", severity="warning")
            return
        self.app.copy_to_clipboard(value)
        self.notify(f"{what} copied: {self.ahi.formatter.text(value)}", title="clipboard (OSC 52)")

    # --- keys -------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.refresh_now()

    def action_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.refresh_due = None
        elif not self._in_flight:
            self._arm()
        self.notify("auto-refresh paused" if self.paused else "auto-refresh resumed")
        self.update_status()

    def action_back(self) -> None:
        table = self.table
        if table is not None and table.filter_text:
            table.set_filter("")
            self.update_status()
        elif self.query_one(ErrorPanel).showing:
            self.query_one(ErrorPanel).clear()
        elif len([s for s in self.app.screen_stack if isinstance(s, AhiScreen)]) > 1:
            self.app.pop_screen()

    def action_export_table(self, path: str | None = None) -> None:
        """The table as shown to a CSV or JSON file (`:export PATH`; ctrl+e asks for the path)."""
        from ahi.tui.table_export import export_table

        export_table(self, path)

    def action_filter(self) -> None:
        table = self.table
        if table is None:
            self.notify("Nothing to filter here", severity="warning")
            return
        self.query_one(FilterBar).open(table.filter_text)

    def open_command_line(self, text: str = "") -> None:
        self.query_one(CommandLine).open(text)

    @on(Input.Changed, "#filter-bar")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self.table is not None:
            self.table.set_filter(event.value)
            self.update_status()

    @on(Input.Submitted, "#filter-bar")
    def _filter_submitted(self) -> None:
        self.query_one(FilterBar).close()
        self._focus_body()

    @on(PromptBar.Closed)
    def _bar_closed(self, event: PromptBar.Closed) -> None:
        if isinstance(event.bar, FilterBar) and self.table is not None:
            self.table.set_filter("")
            self.update_status()
        self._focus_body()

    @on(Input.Submitted, "#command-line")
    def _command_submitted(self, event: Input.Submitted) -> None:
        self.query_one(CommandLine).close()
        self._focus_body()
        self.ahi.run_command(event.value)

    @on(ResourceTable.MarksChanged)
    def _marks_changed(self) -> None:
        self.update_status()

    @on(ResourceTable.SortChanged)
    def _sort_changed(self, message: ResourceTable.SortChanged) -> None:
        self.update_status()
        key = self.view_key
        if key is not None and message.table is self.table:
            if self.ahi.view_state.remember_sort(key, message.table.sort_column, message.table.sort_reverse):
                self._save_view_state()

    @work(thread=True, exclusive=True, group="view-state", exit_on_error=False)
    def _save_view_state(self) -> None:
        self.ahi.view_state.save()

    def _focus_body(self) -> None:
        if self.table is not None:
            self.table.focus()
        else:
            self.set_focus(None)
