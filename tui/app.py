"""The console App: connection, action gating, command line, call log and screen navigation."""

from __future__ import annotations

import asyncio
import signal
from typing import Any, Callable, ClassVar

import boto3
from textual import on, work
from textual.app import App
from textual.binding import BindingType
from textual.reactive import reactive

from services.backoff import Backoff
from services.calllog import CallLog
from services.hub import ServiceHub
from services.session import AwsSession, ConnectionSettings
from tui.actions import REGISTRY, Action
from tui.clock import Clock
from tui.commands import QUIT_WORDS, Command, RegistryCommands, complete
from tui.config import ConsoleConfig
from tui.dialogs.help import HelpScreen
from tui.format import Formatter
from tui.messages import AccountResolved, CallRecorded
from tui.navigation import PLANNED, SCREENS, ScreenSpec, load_screens, resolve_alias
from tui.screen_base import AhiScreen
from tui.settings import ConsoleOptions
from tui.terminal import terminal_gone
from tui.widgets.context_header import HeaderState

ROOT_SCREEN = "datastores"
TERMINAL_CHECK_S = 2.0


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
        startup: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__()
        load_screens()
        self.options = options
        self.config = config or ConsoleConfig()
        self.read_only = options.read_only
        self.production = options.production
        self.refresh_s = options.refresh_s
        self.keymap = dict(options.keymap)
        self.clock = clock or Clock()
        self.formatter = formatter or Formatter()
        self.call_log = CallLog(clock=self.clock.now)
        self.aws = AwsSession(options.connection, self.call_log)
        self.backoff = backoff
        self.services = ServiceHub(self.aws, backoff)
        self._startup = startup

    # --- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.theme = self.options.theme
        self.set_keymap(self.keymap)
        self.call_log.subscribe(lambda record: self.post_message(CallRecorded(record)))
        self.header_state = self._header_state()
        self.push_screen(SCREENS[ROOT_SCREEN].factory(None))
        self._resolve_account()
        if self._startup is not None:
            self._run_startup()
        self._watch_terminal()

    @work(thread=True, exit_on_error=False, group="startup")
    def _run_startup(self) -> None:
        assert self._startup is not None
        self._startup()
        self.call_from_thread(self._after_startup)

    def _after_startup(self) -> None:
        screen = self.main_screen
        if screen is not None:
            screen.refresh_now()

    @work(thread=True, exit_on_error=False, group="account")
    def _resolve_account(self) -> None:
        aws = self.aws
        endpoint, local = aws.endpoint_url, aws.is_local
        self.post_message(AccountResolved(aws, aws.account_id(), endpoint, local))

    @on(AccountResolved)
    def _account_resolved(self, message: AccountResolved) -> None:
        if message.session is self.aws:
            self.header_state = self._header_state(message.account_id, message.endpoint, message.local)

    def _header_state(self, account: str | None = None, endpoint: str | None = None, local: bool | None = None) -> HeaderState:
        settings = self.aws.settings
        return HeaderState(
            profile=self.aws.profile,
            account=account,
            region=self.aws.region,
            endpoint=endpoint or settings.endpoint_url or "",
            local=bool(settings.endpoint_url) if local is None else local,
            read_only=self.read_only,
            production=self.production,
            alerts=self.header_state.alerts,
        )

    def _watch_terminal(self) -> None:
        if self.is_headless:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.terminal_went_away)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        self.set_interval(TERMINAL_CHECK_S, self._check_terminal)

    def _check_terminal(self) -> None:
        if terminal_gone():
            self.terminal_went_away()

    def terminal_went_away(self) -> None:
        """SIGHUP, SIGTERM or a hung-up stdin: leave at once (and let the launcher clean up)."""
        self.exit(return_code=0)

    @on(CallRecorded)
    def _call_recorded(self, message: CallRecorded) -> None:
        from tui.call_log import CallLogScreen

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

    def run_registry_action(self, action: Action, target: Any) -> None:
        """Run an action from the palette or the command line, with the same gate as its key."""
        if self.refuse_if_read_only(action):
            return
        method = getattr(target, f"action_{action.method}", None)
        if method is None:
            self.notify(f"{action.description} is not available here", severity="warning")
            return
        result = method()
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
        actions = [a for a in REGISTRY.in_scopes(self.current_scopes()) if not (self.read_only and a.mutates)]
        self.push_screen(HelpScreen(title, actions, self.keymap, self.read_only))

    def action_call_log(self) -> None:
        from tui.call_log import CallLogScreen

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
        resolved = resolve_alias(command.verb)
        if resolved is not None:
            name, spec = resolved
            if spec is None:
                self.notify(f"{PLANNED[name][0]}: coming in a later release", severity="warning")
            else:
                self.open_screen(spec, command.argument)
            return
        all_commands = REGISTRY.commands(self.current_scopes(), read_only=False)
        if command.verb in all_commands:
            action = all_commands[command.verb]
            target = self if action.scope == "app" else self.main_screen
            self.run_registry_action(action, target)
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
        names = list(boto3.Session().available_profiles) + list(self.config.profiles)
        return sorted(dict.fromkeys(names))

    def region_names(self) -> list[str]:
        regions = self.aws.boto_session.get_available_regions("medical-imaging") or []
        return sorted({*regions, *([self.aws.region] if self.aws.region else [])})

    def switch_profile(self, name: str | None) -> None:
        if not name:
            self.notify(f"Usage: :profile NAME (known: {', '.join(self.profile_names()) or 'none'})", severity="warning")
            return
        if name not in self.profile_names():
            self.notify(f"No profile {name!r} in the AWS config or the ahi config", severity="error")
            return
        profile = self.config.profile(name)
        current = self.aws.settings
        self.read_only = self.options.read_only or profile.read_only or self.config.read_only
        self.production = profile.production
        endpoint = current.endpoint_url if self.options.sources.get("endpoint", "").startswith(("flag", "--local")) else profile.endpoint_url
        self.connect(ConnectionSettings(profile=name, region=profile.region, endpoint_url=endpoint, local_credentials=current.local_credentials))

    def switch_region(self, name: str | None) -> None:
        if not name:
            self.notify("Usage: :region NAME", severity="warning")
            return
        self.connect(self.aws.settings.with_region(name))

    def connect(self, settings: ConnectionSettings) -> None:
        """Use a new profile/region: new clients, same call log, every screen reloaded from the root."""
        try:
            self.aws = AwsSession(settings, self.call_log)
        except Exception as exc:  # botocore refuses unknown profiles and bad config up front
            self.notify(f"Cannot switch: {exc}", severity="error")
            return
        self.services = ServiceHub(self.aws, self.backoff)
        self.header_state = self._header_state()
        self._resolve_account()
        self.refresh_bindings()
        while len(self.screen_stack) > 2:
            self.pop_screen()
        root = self.main_screen
        if root is not None:
            root.reset()
        self.notify(f"Now on profile {self.aws.profile}, region {self.aws.region}")
