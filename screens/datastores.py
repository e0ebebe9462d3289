"""The data stores screen: every store across pages, sortable, filterable, with create and delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from textual import on
from textual.widget import Widget
from textual.widgets import DataTable

from ahi.screens.datastore_create import CreateDatastoreDialog
from ahi.screens.datastore_detail import DatastoreDetailScreen
from ahi.screens.datastore_view import datastore_status_cell, kms_label
from ahi.screens.taggable import TaggableScreen
from ahi.services.datastores import DATASTORE_STATUSES, CreateDatastoreRequest, Datastore
from ahi.services.errors import AwsCallError
from ahi.services.kms import KmsService
from ahi.services.kms_health import assess_datastores
from ahi.tui.actions import REGISTRY, Action, Confirm, mutating
from ahi.tui.navigation import SCREENS
from ahi.tui.widgets.resource_table import Column, ResourceTable, Row

REGISTRY.register(
    Action("datastores.open", "open", "enter", "Open details", "datastores", footer=False),
    Action("datastores.create", "create", "n", "Create data store", "datastores", mutates=True, command="create"),
    Action(
        "datastores.delete", "delete", "D", "Delete data store", "datastores",
        mutates=True, confirm=Confirm.TYPE_ID, command="delete",
    ),
    Action("datastores.status", "cycle_status", "f", "Status filter (server)", "datastores", command="status"),
    Action("datastores.jobs", "jobs", "i", "Import jobs of this data store", "datastores"),
)

COLUMNS = (
    Column("name", "name"),
    Column("id", "id", 32),
    Column("status", "status", 13),
    Column("format", "storage format", 18),
    Column("kms", "KMS key"),
    Column("created", "created", 19),
    Column("updated", "updated", 19),
)


@dataclass(frozen=True)
class DatastoreListing:
    """One refresh's result: the stores, the KMS aliases to label their keys, and the header's key alerts."""

    datastores: list[Datastore]
    aliases: dict[str, str]
    #: Keys making data stores unreadable; None when not counted (a status filter hides stores, or KMS failed).
    key_alerts: int | None = None


class DatastoresScreen(TaggableScreen):
    """Root screen of the console."""

    CSS_PATH = "datastores.tcss"
    SCOPE = "datastores"
    FETCH_OPERATION = "ListDatastores"
    crumb = "Data stores"

    def __init__(self, status: str | None = None) -> None:
        super().__init__()
        self.status_filter = status
        #: The aliases of the last listing, to label keys while a refresh's new ones are on their way.
        self._aliases_shown: dict[str, str] = {}

    def compose_body(self) -> Iterable[Widget]:
        yield ResourceTable(COLUMNS, id="datastores")

    def fetch(self) -> DatastoreListing:
        hub = self.ahi.services
        summaries = hub.datastores.list(self.status_filter)
        known = hub.datastores.with_known_details(summaries)
        if not all(store.detailed for store in known):
            # New stores need a GetDatastore each (and KMS for their keys): the rows come first.
            self.show_early(DatastoreListing(known, self._aliases_shown))
        stores = hub.datastores.with_details(summaries)
        aliases = hub.kms.aliases_or_empty() if any(store.kms_key_arn for store in stores) else {}
        alerts = None if self.status_filter else self._key_alerts(stores, hub.kms, aliases)
        return DatastoreListing(stores, aliases, alerts)

    def _key_alerts(self, stores: list[Datastore], kms: KmsService, aliases: dict[str, str]) -> int | None:
        """How many stores their key makes unreadable (the header shows it from the first screen on)."""
        try:
            return sum(check.unreadable for check in assess_datastores(stores, kms, aliases))
        except AwsCallError:
            return None

    def show(self, result: DatastoreListing) -> None:
        self._aliases_shown = result.aliases
        self.query_one(ResourceTable).set_rows([self._row(store, result.aliases) for store in result.datastores])
        if result.key_alerts is not None:
            self.ahi.set_key_alerts(result.key_alerts)

    def _row(self, store: Datastore, aliases: dict[str, str]) -> Row:
        fmt = self.ahi.formatter
        cells = {
            "name": fmt.text(store.name),
            "id": fmt.text(store.id),
            "status": datastore_status_cell(store.status),
            "format": store.storage_format or ("…" if not store.detailed else "—"),
            "kms": fmt.text(kms_label(store, aliases)),
            "created": fmt.time(store.created_at),
            "updated": fmt.time(store.updated_at),
        }
        sort_values = {"created": store.created_at, "updated": store.updated_at, "name": store.name.lower()}
        return Row(key=store.id, cells=cells, resource=store, sort_values=sort_values)

    def status_parts(self) -> list[str]:
        parts = super().status_parts()
        if self.status_filter:
            parts.insert(1, f"status (server): {self.status_filter}")
        return parts

    def command_argument(self, argument: str | None) -> None:
        if argument and argument.upper() in DATASTORE_STATUSES:
            self.status_filter = argument.upper()
            self.refresh_now()
        else:
            super().command_argument(argument)

    def action_cycle_status(self) -> None:
        choices: list[str | None] = [None, *DATASTORE_STATUSES]
        self.status_filter = choices[(choices.index(self.status_filter) + 1) % len(choices)]
        self.notify(f"status filter: {self.status_filter or 'all'}")
        self.refresh_now()

    def action_open(self) -> None:
        store = self.current_resource()
        if isinstance(store, Datastore):
            self.app.push_screen(DatastoreDetailScreen(store))

    def action_jobs(self) -> None:
        store = self.current_resource()
        if isinstance(store, Datastore):
            self.ahi.open_screen(SCREENS["jobs"], store.id)

    @on(DataTable.RowSelected, "#datastores")
    def _row_selected(self) -> None:
        self.action_open()

    @mutating("datastores.create")
    def action_create(self) -> None:
        self.app.push_screen(CreateDatastoreDialog(), self._create_answered)

    def _create_answered(self, request: CreateDatastoreRequest | None) -> None:
        if request is None:
            return
        hub = self.ahi.services
        self.call_in_background("CreateDatastore", lambda: hub.datastores.create(request), self._created)

    def _created(self, result: tuple[str, str]) -> None:
        datastore_id, status = result
        self.notify(f"{self.ahi.formatter.text(datastore_id)}: {status}", title="Data store created")
        self.refresh_after_change()

    @mutating("datastores.delete")
    def action_delete(self) -> None:
        store = self.current_resource()
        if not isinstance(store, Datastore):
            self.notify("Select a data store first", severity="warning")
            return
        hub = self.ahi.services

        def proceed() -> None:
            self.call_in_background("DeleteDatastore", lambda: hub.datastores.delete(store.id), self._deleted)

        self.confirm_then("datastores.delete", f"Data store {store.name}", store.id, proceed)

    def _deleted(self, status: str) -> None:
        self.notify(f"Data store is {status}", title="Delete accepted")
        self.refresh_after_change()
