"""Choose the import's data store from a list (ListDatastores, read in a worker) instead of typing its ID."""

from __future__ import annotations

from typing import Callable, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from ahi.services.datastores import Datastore
from ahi.tui.literal import literal


class DatastorePickerDialog(ModalScreen["str | None"]):
    """Dismisses with the chosen data store's ID, or None when cancelled."""

    DEFAULT_CSS = """
    DatastorePickerDialog { align: center middle; }
    DatastorePickerDialog > Vertical { width: 84; max-width: 95%; height: auto; max-height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    DatastorePickerDialog .title { text-style: bold; }
    DatastorePickerDialog OptionList { height: auto; max-height: 16; }
    DatastorePickerDialog #picker-note { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, load: Callable[[], list[Datastore]], current: str = "") -> None:
        super().__init__()
        self.load = load
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Choose the data store", classes="title")
            yield OptionList(id="picker")
            yield Static("Loading data stores…", id="picker-note")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    @work(thread=True, exit_on_error=False, group="datastore-picker")
    def _load(self) -> None:
        try:
            stores = self.load()
        except Exception as exc:  # shown in the dialog: the form stays usable by typing
            self.app.call_from_thread(self._failed, str(exc))
        else:
            self.app.call_from_thread(self._show, stores)

    def _show(self, stores: list[Datastore]) -> None:
        picker = self.query_one(OptionList)
        usable = [store for store in stores if store.status == "ACTIVE"]
        for store in usable:
            picker.add_option(Option(literal(f"{store.name}  {store.id}"), id=store.id))
        note = self.query_one("#picker-note", Static)
        others = len(stores) - len(usable)
        if not usable:
            note.update("No ACTIVE data store to import into." + (f" ({others} not ACTIVE)" if others else ""))
            return
        note.update(f"Enter chooses, Esc cancels." + (f" {others} not ACTIVE, not listed." if others else ""))
        ids = [store.id for store in usable]
        picker.highlighted = ids.index(self.current) if self.current in ids else 0

    def _failed(self, reason: str) -> None:
        self.query_one("#picker-note", Static).update(literal(f"Cannot list data stores: {reason}", multiline=True))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
