"""The start-import form: data store, input and output S3 URIs, role ARN, job name; checked before sending.

Help while typing: the data store comes from the screen's context or a list (F2), the role ARN last
used for that data store is filled in, and S3 URIs complete from bucket and folder listings (→ takes
the suggestion), read in workers so typing never waits for S3.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Callable, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Input, Label, Static

from ahi.screens.import_start_picker import DatastorePickerDialog
from ahi.services.import_form import FIELDS, StartImportForm, validate
from ahi.services.import_job_list import ImportJob
from ahi.tui.import_roles import ImportRoles, import_roles
from ahi.tui.literal import literal
from ahi.tui.widgets.field_group import FieldGroup
from ahi.tui.widgets.literal_input import LiteralInput

if TYPE_CHECKING:
    from ahi.services.connection import Connection
    from ahi.services.s3_prefixes import S3PrefixLister
    from ahi.tui.screen_base import AhiScreen

PLACEHOLDERS = {
    "datastore_id": "32 lowercase letters and digits",
    "input_s3_uri": "s3://bucket/prefix/",
    "output_s3_uri": "s3://bucket/prefix/",
    "role_arn": "arn:aws:iam::123456789012:role/ImportJobDataAccessRole",
    "job_name": "optional: letters, digits and . _ / # -",
    "input_owner_account_id": "optional: 12 digits, for a bucket in another account",
}
#: What each field's label adds about the help it gives.
HINTS = {
    "datastore_id": "F2 chooses from a list",
    "input_s3_uri": "→ takes the completion",
    "output_s3_uri": "→ takes the completion",
}
S3_FIELDS = ("input_s3_uri", "output_s3_uri")


class S3UriSuggester(Suggester):
    """Suggests the first bucket or folder that extends what is typed; the listing runs in a thread."""

    def __init__(self, lister: Callable[[], S3PrefixLister]) -> None:
        super().__init__(use_cache=True, case_sensitive=True)
        self._lister = lister

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        try:
            completions = await asyncio.to_thread(lambda: self._lister().complete(value))
        except Exception:  # no endpoint, no connection: typing goes on without suggestions
            return None
        return next((c for c in completions if c != value), None)


class StartImportDialog(ModalScreen["StartImportForm | None"]):
    """Dismisses with a form that passed every model rule, or None when cancelled."""

    CSS_PATH = "import_start.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("f2", "pick_datastore", "Choose data store", show=False),
    ]

    def __init__(
        self, initial: StartImportForm | None = None, hub: Connection | None = None, roles: ImportRoles | None = None
    ) -> None:
        super().__init__()
        self.initial = initial or StartImportForm("", "", "", "")
        self.hub = hub
        self.roles = roles or ImportRoles(None)
        #: The role ARN this form filled in itself (replaced when the data store changes; a typed one stays).
        self._filled_role = ""
        self._lister: S3PrefixLister | None = None

    def compose(self) -> ComposeResult:
        values = asdict(self.initial)
        with VerticalScroll(id="form"), FieldGroup(submit=self.submit):
            yield Label("Start import job", classes="title")
            for name, (_member, _flag, label) in FIELDS.items():
                hint = HINTS.get(name) if self.hub is not None else None
                yield Label(f"{label}  ({hint})" if hint else label)
                suggester = S3UriSuggester(self._s3_lister) if self.hub is not None and name in S3_FIELDS else None
                yield LiteralInput(values[name], placeholder=PLACEHOLDERS[name], id=name, suggester=suggester)
                yield Static("", id=f"{name}-problem", classes="problem")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Start", id="start", variant="primary")

    def on_mount(self) -> None:
        self._fill_role(self.initial.datastore_id.strip())
        first_empty = next((i for i in self.query(Input) if not i.value), None)
        (first_empty or self.query_one("#datastore_id", Input)).focus()

    def _s3_lister(self) -> S3PrefixLister:
        """The form's one lister (made in the suggester's thread: the connection may wait for the endpoint)."""
        if self._lister is None:
            assert self.hub is not None
            self._lister = self.hub.s3_prefixes()
        return self._lister

    def _fill_role(self, datastore_id: str) -> None:
        """Put the data store's remembered role in the role field, unless the person typed one of their own."""
        field = self.query_one("#role_arn", Input)
        if field.value.strip() and field.value != self._filled_role:
            return
        remembered = self.roles.role_for(datastore_id) or ""
        if remembered or self._filled_role:
            field.value = remembered
            self._filled_role = remembered

    @on(Input.Changed, "#datastore_id")
    def _datastore_changed(self, event: Input.Changed) -> None:
        self._fill_role(event.value.strip())

    def action_pick_datastore(self) -> None:
        if self.hub is None:
            return
        hub = self.hub
        field = self.query_one("#datastore_id", Input)

        def chosen(datastore_id: str | None) -> None:
            if datastore_id:
                field.value = datastore_id
                self.query_one("#input_s3_uri", Input).focus()

        self.app.push_screen(DatastorePickerDialog(lambda: hub.datastores.list(), field.value.strip()), chosen)

    def form(self) -> StartImportForm:
        return StartImportForm(**{name: self.query_one(f"#{name}", Input).value.strip() for name in FIELDS})

    @on(Button.Pressed, "#start")
    def submit(self) -> None:
        form = self.form()
        errors = validate(form)
        for name in FIELDS:
            messages = [e.rule for e in errors if e.field == name]
            self.query_one(f"#{name}-problem", Static).update(literal("\n".join(f"✖ {m}" for m in messages), multiline=True))
        if errors:
            self.query_one(f"#{errors[0].field}", Input).focus()
            return
        self.dismiss(form)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def start_import(screen: AhiScreen, initial: StartImportForm, then: Callable[[ImportJob], None] | None = None) -> None:
    """Ask with the form, start the job off the UI thread, announce it, then call `then` with the new job.

    An empty data store is taken from the screen's context: the resource under its cursor (a job, a data store).
    """
    hub = screen.ahi.services
    if not initial.datastore_id:
        resource = screen.current_resource()
        context = getattr(resource, "datastore_id", None) or (getattr(resource, "id", None) if _is_datastore(resource) else None)
        if isinstance(context, str) and context:
            initial = replace(initial, datastore_id=context)
    state = screen.ahi.view_state.path
    roles = import_roles(state.parent if state is not None else None)

    def run(form: StartImportForm) -> ImportJob:
        job = hub.imports.start(form)
        roles.remember(form.datastore_id, form.role_arn)
        return job

    def started(job: ImportJob) -> None:
        screen.notify(f"{screen.ahi.formatter.text(job.id)}: {job.status}", title="Import job started")
        if then is not None:
            then(job)

    def submitted(form: StartImportForm | None) -> None:
        if form is not None:
            screen.call_in_background("StartDICOMImportJob", lambda: run(form), started)

    screen.app.push_screen(StartImportDialog(initial, hub, roles), submitted)


def _is_datastore(resource: object) -> bool:
    from ahi.services.datastores import Datastore

    return isinstance(resource, Datastore)
