"""The create form: name, storage format, an optional customer KMS key from a list, and tags."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from ahi.services.datastores import STORAGE_FORMATS, CreateDatastoreRequest
from ahi.services.errors import AwsCallError
from ahi.services.kms import KmsKey
from ahi.services.tags import parse_tags
from ahi.tui.literal import literal
from ahi.tui.messages import AwsCallFailed, Fetched

AWS_OWNED_KEY = ""


class CreateDatastoreDialog(ModalScreen[CreateDatastoreRequest | None]):
    """Dismisses with a request that passed local validation, or None when cancelled."""

    CSS_PATH = "datastore_create.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Label("Create data store", classes="title")
            yield Label("Name")
            yield Input(placeholder="letters, digits and . _ / # -", id="name")
            yield Label("Lossless storage format")
            yield Select([(fmt, fmt) for fmt in STORAGE_FORMATS], value=STORAGE_FORMATS[0], allow_blank=False, id="format")
            yield Label("Encryption key")
            yield Select([("AWS owned key (default)", AWS_OWNED_KEY)], value=AWS_OWNED_KEY, allow_blank=False, id="key")
            yield Label("Tags (key=value, comma separated)")
            yield Input(placeholder="team=imaging, env=dev", id="tags")
            yield Static("", id="problems")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="create", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self._load_keys()

    @work(thread=True, exit_on_error=False, group="keys")
    def _load_keys(self) -> None:
        try:
            keys = self.app.services.kms.customer_keys()  # type: ignore[attr-defined]
        except Exception as exc:
            self.post_message(AwsCallFailed(AwsCallError.from_exception("ListKeys", exc), "listing KMS keys"))
        else:
            self.post_message(Fetched(keys))

    @on(Fetched)
    def _keys_loaded(self, message: Fetched) -> None:
        keys: list[KmsKey] = message.result
        fmt = self.app.formatter  # type: ignore[attr-defined]
        options = [("AWS owned key (default)", AWS_OWNED_KEY)]
        options += [(fmt.literal(f"{key.label}  {key.description}".strip(), limit=120), key.arn) for key in keys]
        self.query_one("#key", Select).set_options(options)
        self.query_one("#key", Select).value = AWS_OWNED_KEY

    @on(AwsCallFailed)
    def _keys_failed(self, message: AwsCallFailed) -> None:
        self.query_one("#problems", Static).update(
            literal(f"Customer keys unavailable ({message.error.code}); the AWS owned key can still be used.")
        )

    def request(self) -> CreateDatastoreRequest:
        key = self.query_one("#key", Select).value
        return CreateDatastoreRequest(
            name=self.query_one("#name", Input).value.strip(),
            storage_format=str(self.query_one("#format", Select).value),
            kms_key_arn=str(key) if key and key is not Select.BLANK else None,
            tags=parse_tags(self.query_one("#tags", Input).value),
        )

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def submit(self) -> None:
        request = self.request()
        problems = request.problems()
        if problems:
            self.query_one("#problems", Static).update(literal("\n".join(f"✖ {problem}" for problem in problems), multiline=True))
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
