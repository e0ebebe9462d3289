"""The start-import form: data store, input and output S3 URIs, role ARN, job name; checked before sending."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Callable, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ahi.services.import_form import FIELDS, StartImportForm, validate
from ahi.services.import_job_list import ImportJob
from ahi.tui.literal import literal
from ahi.tui.widgets.field_group import FieldGroup
from ahi.tui.widgets.literal_input import LiteralInput

if TYPE_CHECKING:
    from ahi.tui.screen_base import AhiScreen

PLACEHOLDERS = {
    "datastore_id": "32 lowercase letters and digits",
    "input_s3_uri": "s3://bucket/prefix/",
    "output_s3_uri": "s3://bucket/prefix/",
    "role_arn": "arn:aws:iam::123456789012:role/ImportJobDataAccessRole",
    "job_name": "optional: letters, digits and . _ / # -",
    "input_owner_account_id": "optional: 12 digits, for a bucket in another account",
}


class StartImportDialog(ModalScreen["StartImportForm | None"]):
    """Dismisses with a form that passed every model rule, or None when cancelled."""

    CSS_PATH = "import_start.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, initial: StartImportForm | None = None) -> None:
        super().__init__()
        self.initial = initial or StartImportForm("", "", "", "")

    def compose(self) -> ComposeResult:
        values = asdict(self.initial)
        with VerticalScroll(id="form"), FieldGroup(submit=self.submit):
            yield Label("Start import job", classes="title")
            for name, (_member, _flag, label) in FIELDS.items():
                yield Label(label)
                yield LiteralInput(values[name], placeholder=PLACEHOLDERS[name], id=name)
                yield Static("", id=f"{name}-problem", classes="problem")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Start", id="start", variant="primary")

    def on_mount(self) -> None:
        first_empty = next((i for i in self.query(Input) if not i.value), None)
        (first_empty or self.query_one("#datastore_id", Input)).focus()

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
    """Ask with the form, start the job off the UI thread, announce it, then call `then` with the new job."""
    hub = screen.ahi.services

    def started(job: ImportJob) -> None:
        screen.notify(f"{screen.ahi.formatter.text(job.id)}: {job.status}", title="Import job started")
        if then is not None:
            then(job)

    def submitted(form: StartImportForm | None) -> None:
        if form is not None:
            screen.call_in_background("StartDICOMImportJob", lambda: hub.imports.start(form), started)

    screen.app.push_screen(StartImportDialog(initial), submitted)
