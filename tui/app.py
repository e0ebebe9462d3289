"""The console App: connection, action gating, command line, call log and screen navigation."""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import threading
from dataclasses import replace
from typing import Any, Callable, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.reactive import reactive

from ahi.services.backoff import Backoff
from ahi.services.call_log import CallLog
from ahi.services.connection import AccountLookup, Connection
from ahi.services.local_endpoint import LocalEndpointRun
from ahi.services.session import EndpointOrigin, available_profiles
from ahi.tui.actions import REGISTRY, Action
from ahi.tui.clock import Clock
from ahi.tui.commands import QUIT_WORDS, Command, RegistryCommands, complete
from ahi.tui.config import ConsoleConfig
from ahi.tui.daemon_executor import DaemonThreadExecutor
from ahi.tui.dialogs.help import HelpDialog, help_actions
from ahi.tui.exit_watchdog import ExitWatchdog
from ahi.tui.format import Formatter
from ahi.tui.literal import visible_lines
from ahi.tui.messages import AccountResolved, CallRecorded
from ahi.tui.navigation import SCREENS, ScreenSpec, resolve_alias
from ahi.tui.paths import state_dir
from ahi.tui.screen_base import AhiScreen
from ahi.tui.settings import ConsoleOptions, resolve_profile
from ahi.tui.terminal import terminal_gone
from ahi.tui.view_state import VIEWS_FILE, ViewState
from ahi.tui.widgets.context_header import HeaderState

ROOT_SCREEN = "datastores"
TERMINAL_CHECK_S = 2.0
#: How long the header's account lookup on the local endpoint waits for the first screen's data.
ACCOUNT_AFTER_FIRST_LISTING_S = 5.0
STARTING_LOCAL = "starting local endpoint…"
#: Longest notification message and title shown; a foreign value can be any size.
NOTIFY_LIMIT = 2000
TITLE_LIMIT = 120

log = logging.getLogger("ahi.console")


class AhiApp(App[None]):
    """The console; screens come from the screen registry, keys from the action registry."""

    TITLE = "ahi"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = REGISTRY.bindings("app")
    COMMANDS = App.COMMANDS | {RegistryCommands}

    header_state: reactive[HeaderState] = reactive(HeaderState)

    def __init__(
        self,
        options: ConsoleOptions,
        *,
        config: ConsoleConfig | None = None,
        clock: Clock | None = None,
        formatter: Formatter | None = None,
        local_endpoint: LocalEndpointRun | None = None,
        backoff: Backoff | None = None,
        view_state: ViewState | None = None,
    ) -> None:
        super().__init__()
        self.options = options
        #: Table sorts remembered between runs (read here, before the first screen mounts).
        self.view_state = view_state if view_state is not None else ViewState(state_dir() / VIEWS_FILE)
        self.config = config or ConsoleConfig()
        self.read_only = options.read_only
        self.production = options.production
        self.refresh_s = options.refresh_s
        self.keymap = dict(options.keymap)
        self.clock = clock or Clock()
        self.formatter = formatter or Formatter()
        self.call_log = CallLog(clock=self.clock.now)
        #: The one door to AWS; its services wait in workers while the local endpoint starts.
        self.services = Connection.for_settings(options.connection, self.call_log, backoff, local_endpoint)
        #: Ends the process if the shutdown hangs after the terminal went away.
        self.exit_watchdog = ExitWatchdog(self.services.stop_local)
        #: Set when the first screen has its first data (or its error).
        self._first_listing = threading.Event()

    # --- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.services.never_wait_on_this_thread()
        asyncio.get_running_loop().set_default_executor(DaemonThreadExecutor())
        self.theme = self.options.theme
        self.set_keymap(self.keymap)
        self.call_log.subscribe(lambda record: self.post_message(CallRecorded(record)))
        self.header_state = self._header_state()
        self.push_screen(SCREENS[ROOT_SCREEN].factory(None))
        if self.services.local is not None:
            self._start_local_endpoint()
        else:
            self._resolve_account()
        self._watch_terminal()

    # --- the local endpoint process (`--local`) -------------------------------------------------

    @work(thread=True, exit_on_error=False, group="local-endpoint")
    def _start_local_endpoint(self) -> None:
        """Start the endpoint while the screen paints; workers wait for it in the connection."""
        try:
            self.services.start_local()
        except Exception:
            log.exception("the local endpoint did not start")
            self._from_thread(self._local_endpoint_failed, self.services.local_failure or "the local endpoint did not start")
        else:
            self._from_thread(self._local_endpoint_ready)

    def _local_endpoint_ready(self) -> None:
        self.header_state = self._header_state()
        # The endpoint's first STS call loads moto (half a second of its CPU): not while it serves the first table.
        self._resolve_account(after=self._first_listing)
        local = self.services.local
        if local is not None and local.seed_wanted:
            self.notify("Seeding the demo world (data stores, keys, imports)…", title="local endpoint")
            self._seed_demo()

    def _local_endpoint_failed(self, reason: str) -> None:
        self.header_state = self._header_state()
        self.notify(reason, severity="error", title="local endpoint", timeout=30)

    @work(thread=True, exit_on_error=False, group="demo-seed")
    def _seed_demo(self) -> None:
        """Create the demo world, then follow its imports; the console never waits for this."""
        try:
            self.services.seed_demo(lambda note: self._from_thread(self._demo_changed, note))
        except Exception as exc:
            if self.services.local is None or self.services.local.stopped:
                return
            log.exception("demo seed failed")
            self._from_thread(self.notify, f"Demo seed failed: {exc}", severity="error", title="local endpoint")

    def _demo_changed(self, note: str) -> None:
        self.notify(note, title="local endpoint")
        screen = self.main_screen
        if screen is not None:
            screen.refresh_now()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification, ours or a widget's: shown literally (markup off, control and bidi characters visible).

        Messages quote foreign values (IDs, keys, error messages), so none is ever read as markup
        (docs/foreign-text.md); `markup` is accepted for Textual's signature and ignored.
        """
        super().notify(
            visible_lines(message, limit=NOTIFY_LIMIT),
            title=visible_lines(title, limit=TITLE_LIMIT),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def _from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """`call_from_thread`, except that an app which has already quit is left alone."""
        try:
            self.call_from_thread(callback, *args, **kwargs)
        except RuntimeError:
            pass

    def first_listing_done(self) -> None:
        """A screen has shown its first data or error: work that waited for it may go on."""
        self._first_listing.set()

    @work(thread=True, exit_on_error=False, group="account")
    def _resolve_account(self, after: threading.Event | None = None) -> None:
        if after is not None:
            after.wait(ACCOUNT_AFTER_FIRST_LISTING_S)
        lookup = self.services.lookup_account()
        self.post_message(AccountResolved(lookup.session, lookup.account_id, lookup.endpoint, lookup.local))

    @on(AccountResolved)
    def _account_resolved(self, message: AccountResolved) -> None:
        if message.session is self.services.aws:
            self.header_state = self._header_state(AccountLookup(message.session, message.account_id, message.endpoint, message.local))

    def _header_state(self, lookup: AccountLookup | None = None) -> HeaderState:
        connection = self.services
        settings = connection.settings
        if connection.starting_local:
            endpoint = STARTING_LOCAL
        elif connection.local_failure is not None:
            endpoint = "local endpoint failed to start"
        else:
            endpoint = (lookup.endpoint if lookup else None) or settings.endpoint_url or ""
        return HeaderState(
            profile=connection.profile,
            account=lookup.account_id if lookup else None,
            region=connection.region,
            endpoint=endpoint,
            local=lookup.local if lookup else settings.endpoint_origin is not EndpointOrigin.AWS,
            read_only=self.read_only,
            production=self.production,
            alerts=self.header_state.alerts,
        )

    def _watch_terminal(self) -> None:
        if self.is_headless:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.terminal_went_away)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        self.set_interval(TERMINAL_CHECK_S, self._check_terminal)

    def _check_terminal(self) -> None:
        if terminal_gone():
            self.terminal_went_away()

    def terminal_went_away(self) -> None:
        """SIGHUP, SIGTERM, SIGINT or a hung-up stdin: leave at once (and let the launcher clean up)."""
        self.exit_watchdog.arm()
        self.exit(return_code=0)

    def set_key_alerts(self, count: int) -> None:
        """Keys that make data stores unreadable, counted in the header (data stores and KMS screens keep it current)."""
        if count != self.header_state.alerts:
            self.header_state = replace(self.header_state, alerts=count)

    @on(CallRecorded)
    def _call_recorded(self, message: CallRecorded) -> None:
        from ahi.tui.call_log import CallLogScreen

        for screen in self.screen_stack:
            if isinstance(screen, CallLogScreen):
                screen.add_record(message.record)

    # --- gating -----------------------------------------------------------------------------------

    @property
    def main_screen(self) -> AhiScreen | None:
        """The top console screen (modals and the palette excluded)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, AhiScreen):
                return screen
        return None

    def current_scopes(self) -> list[str]:
        screen = self.main_screen
        return screen.scopes() if screen is not None else ["app"]

    def action_allowed(self, method: str, scopes: list[str]) -> bool:
        """False (hidden and refused) for a mutating action in read-only mode."""
        action = REGISTRY.by_method(method, scopes)
        return not (action is not None and action.mutates and self.read_only)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.action_allowed(action, ["app"])

    def refuse_if_read_only(self, action: Action) -> bool:
        """Notify and return True when `action` may not run now."""
        if action.mutates and self.read_only:
            self.notify(f"Refused: {action.description} changes AWS; the console is read-only.", severity="error")
            return True
        return False

    def run_registry_action(self, action: Action, target: Any, argument: str | None = None) -> None:
        """Run an action from the palette or the command line, with the same gate as its key.

        The command's argument (`:export PATH`) goes to an action method that takes one; others ignore it.
        """
        if self.refuse_if_read_only(action):
            return
        method = getattr(target, f"action_{action.method}", None)
        if method is None:
            self.notify(f"{action.description} is not available here", severity="warning")
            return
        takes_argument = argument is not None and bool(inspect.signature(method).parameters)
        result = method(argument) if takes_argument else method()
        if asyncio.iscoroutine(result):
            self.call_later(lambda: result)

    # --- app actions ------------------------------------------------------------------------------

    def action_command_line(self) -> None:
        screen = self.main_screen
        if screen is not None and self.screen is screen:
            screen.open_command_line()

    def action_help(self) -> None:
        screen = self.main_screen
        title = f"Keys — {screen.crumb}" if screen is not None else "Keys"
        self.push_screen(HelpDialog(title, help_actions(screen, self.read_only), self.keymap, self.read_only))

    def action_call_log(self) -> None:
        from ahi.tui.call_log import CallLogScreen

        if not isinstance(self.screen, CallLogScreen):
            self.push_screen(CallLogScreen())

    def complete_command(self, text: str) -> list[str]:
        return complete(self, text)

    def run_command(self, text: str) -> None:
        """Execute one `:` command line."""
        command = Command.parse(text)
        if not command.verb:
            return
        if command.verb in QUIT_WORDS:
            self.exit()
            return
        if command.verb == "profile":
            self.switch_profile(command.argument)
            return
        if command.verb == "region":
            self.switch_region(command.argument)
            return
        spec = resolve_alias(command.verb)
        if spec is not None:
            self.open_screen(spec, command.argument)
            return
        all_commands = REGISTRY.commands(self.current_scopes(), read_only=False)
        if command.verb in all_commands:
            action = all_commands[command.verb]
            target = self if action.scope == "app" else self.main_screen
            self.run_registry_action(action, target, command.argument)
            return
        self.notify(f"Unknown command :{command.verb} (Tab completes, ? shows help)", severity="error")

    def open_screen(self, spec: ScreenSpec, argument: str | None) -> None:
        """Go to a top-level screen: back to the root first, so the breadcrumb starts fresh."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        root = self.main_screen
        if spec.name == ROOT_SCREEN and root is not None:
            root.command_argument(argument)
            return
        self.push_screen(spec.factory(argument))

    # --- switching profile and region -------------------------------------------------------------

    def profile_names(self) -> list[str]:
        names = available_profiles() + list(self.config.profiles)
        return sorted(dict.fromkeys(names))

    def region_names(self) -> list[str]:
        return self.services.available_regions()

    def switch_profile(self, name: str | None) -> None:
        if not name:
            self.notify(f"Usage: :profile NAME (known: {', '.join(self.profile_names()) or 'none'})", severity="warning")
            return
        if name not in self.profile_names():
            self.notify(f"No profile {name!r} in the AWS config or the ahi config", severity="error")
            return
        current = self.services.settings
        local_url = current.endpoint_url if current.endpoint_origin is EndpointOrigin.LOCAL else None
        self.connect(resolve_profile(self.options, self.config, name, local_url))

    def switch_region(self, name: str | None) -> None:
        if not name:
            self.notify("Usage: :region NAME", severity="warning")
            return
        self.connect(replace(self.options, connection=self.services.settings.with_region(name)))

    def connect(self, options: ConsoleOptions) -> None:
        """Use a new profile/region: new clients, same call log, every screen reloaded from the root."""
        try:
            self.services.switch(options.connection)
        except Exception as exc:  # botocore refuses unknown profiles and bad config up front
            self.notify(f"Cannot switch: {exc}", severity="error")
            return
        self.options = options
        self.read_only, self.production = options.read_only, options.production
        self.header_state = self._header_state()
        self._resolve_account()
        self.refresh_bindings()
        while len(self.screen_stack) > 2:
            self.pop_screen()
        root = self.main_screen
        if root is not None:
            root.reset()
        self.notify(f"Now on profile {self.services.profile}, region {self.services.region}")
