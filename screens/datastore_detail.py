"""One data store: every property, its tags, its KMS key status, its import jobs by status and its image sets per
storage tier (counted when the screen opens and on `r`, not on every auto-refresh: docs/version-diff.md#tiers)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable, TypeVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from ahi.screens.datastore_view import AWS_OWNED, datastore_status_cell
from ahi.services.datastores import Datastore
from ahi.services.errors import AwsCallError
from ahi.services.kms import KeyStatus
from ahi.services.tiers import TierCount, count_tiers
from ahi.tui.literal import literal, literal_row
from ahi.tui.messages import CallDone
from ahi.tui.screen_base import AhiScreen

T = TypeVar("T")

PROPERTY_LABELS = {
    "datastoreName": "name",
    "datastoreId": "id",
    "datastoreArn": "ARN",
    "datastoreStatus": "status",
    "losslessStorageFormat": "storage format",
    "kmsKeyArn": "KMS key ARN",
    "lambdaAuthorizerArn": "Lambda authorizer",
    "createdAt": "created",
    "updatedAt": "updated",
}


@dataclass(frozen=True)
class DatastoreDetail:
    """One refresh of the detail view; each part is a value or the AwsCallError that stopped it."""

    datastore: Datastore
    tags: dict[str, str] | AwsCallError
    key: KeyStatus | AwsCallError
    jobs: dict[str, int] | AwsCallError


def attempt(operation: str, call: Callable[[], T]) -> T | AwsCallError:
    """The call's result, or its failure as a value (one failing part must not hide the others)."""
    try:
        return call()
    except Exception as exc:
        return AwsCallError.from_exception(operation, exc)


class DatastoreDetailScreen(AhiScreen):
    """Reached with Enter from the data store list; Esc goes back."""

    CSS_PATH = "datastore_detail.tcss"
    SCOPE = "datastore_detail"
    FETCH_OPERATION = "GetDatastore"

    def __init__(self, datastore: Datastore) -> None:
        super().__init__()
        self.datastore = datastore
        self.crumb = datastore.name

    def compose_body(self) -> Iterable[Widget]:
        with VerticalScroll(id="detail"):
            yield Static(id="properties")
            yield Static(id="tags")
            yield Static(id="kms")
            yield Static(id="jobs")
            yield Static(id="tiers")

    def on_mount(self) -> None:
        super().on_mount()
        self.count_tiers()

    def action_refresh(self) -> None:
        super().action_refresh()
        self.count_tiers()

    @work(thread=True, exit_on_error=False, group="tiers", exclusive=True)
    def count_tiers(self) -> None:
        """SearchImageSets over the whole store, page by page, posting the count after each page (bounded: services.tiers);
        only an ACTIVE data store can be searched."""
        if self.datastore.status != "ACTIVE":
            self.post_message(CallDone(None, self._show_tiers))
            return
        worker = get_current_worker()
        imagesets, store = self.ahi.services.imagesets, self.datastore.id

        def progress(count: TierCount) -> None:
            if not worker.is_cancelled:  # a newer count has started; this one's numbers are stale
                self.post_message(CallDone(replace(count, by_tier=dict(count.by_tier)), self._show_tiers))

        try:
            count_tiers(lambda token: imagesets.search(store, {}, token), progress=progress, stop=lambda: worker.is_cancelled)
        except Exception as exc:
            self.post_message(CallDone(AwsCallError.from_exception("SearchImageSets", exc), self._show_tiers))

    def _show_tiers(self, count: TierCount | AwsCallError | None) -> None:
        self.query_one("#tiers", Static).update(self._tiers(count))

    def _tiers(self, count: TierCount | AwsCallError | None) -> Group:
        if count is None:
            return Group(Text("Storage tiers", style="bold"), Text("  counted only while the data store is ACTIVE", style="dim"))
        if isinstance(count, AwsCallError):
            return self._unavailable("Storage tiers", count)
        if not count.done:
            title = f"Storage tiers (counting… {count.seen:,} image sets, {count.pages} pages)"
        elif count.complete:
            title = f"Storage tiers (all {count.seen:,} image sets)"
        else:
            title = f"Storage tiers (the {count.seen:,} most recently updated image sets: the count stops at {count.limit:,})"
        table = Table(box=None, show_header=False, expand=False)
        table.add_column(style="dim", no_wrap=True)
        table.add_column(justify="right")
        for name, number in count.rows():
            literal_row(table, name, f"{number:,}")
        return Group(Text(title, style="bold"), table)

    def current_resource(self) -> Datastore:
        return self.datastore

    def fetch(self) -> DatastoreDetail:
        hub = self.ahi.services
        datastore = hub.datastores.get(self.datastore.id)
        tags = attempt("ListTagsForResource", lambda: hub.tags.list(datastore.arn or ""))
        key = attempt("DescribeKey", lambda: hub.kms.status(datastore.kms_key_arn))
        jobs = attempt("ListDICOMImportJobs", lambda: hub.job_counts(datastore.id))
        return DatastoreDetail(datastore, tags, key, jobs)

    def show(self, result: DatastoreDetail) -> None:
        self.datastore = result.datastore
        self.query_one("#properties", Static).update(self._properties(result.datastore))
        self.query_one("#tags", Static).update(self._tags(result.tags))
        self.query_one("#kms", Static).update(self._key(result.key))
        self.query_one("#jobs", Static).update(self._jobs(result.jobs))

    def _section(self, title: str) -> Table:
        table = Table(title=literal(title, style="bold"), title_justify="left", title_style="bold", box=None, show_header=False, expand=False)
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        return table

    def _properties(self, store: Datastore) -> Table:
        fmt = self.ahi.formatter
        table = self._section("Properties")
        for key, value in store.raw.items():
            label = PROPERTY_LABELS.get(key, key)
            if key == "datastoreStatus":
                literal_row(table, label, datastore_status_cell(str(value)))
            elif key in ("createdAt", "updatedAt"):
                literal_row(table, label, fmt.time(value))
            else:
                literal_row(table, label, fmt.text(value))
        if not store.kms_key_arn:
            literal_row(table, "KMS key", AWS_OWNED)
        return table

    def _unavailable(self, title: str, error: AwsCallError) -> Group:
        return Group(Text(title, style="bold"), Text(f"  not available: {error.operation} answered {error.code}", style="yellow"))

    def _tags(self, tags: dict[str, str] | AwsCallError) -> Table | Group:
        if isinstance(tags, AwsCallError):
            return self._unavailable("Tags", tags)
        table = self._section(f"Tags ({len(tags)})")
        for key in sorted(tags):
            literal_row(table, key, tags[key])
        if not tags:
            literal_row(table, "", Text("no tags", style="dim"))
        return table

    def _key(self, key: KeyStatus | AwsCallError) -> Table | Group:
        if isinstance(key, AwsCallError):
            return self._unavailable("KMS key", key)
        table = self._section("KMS key")
        if key.aws_owned:
            literal_row(table, "key", AWS_OWNED)
            return table
        fmt = self.ahi.formatter
        literal_row(table, "key", fmt.text(key.alias or key.arn))
        if key.error is not None:
            literal_row(table, "state", Text(f"cannot describe: {key.error.code}", style="bold red"))
            return table
        state = Text(key.key_state or "?", style="green" if key.usable else "bold red")
        if key.deletion_date is not None:
            state.append(f" (deletion {fmt.time(key.deletion_date)})")
        literal_row(table, "state", state)
        literal_row(table, "manager", key.key_manager or "?")
        rotation = "unknown" if key.rotation_enabled is None else "enabled" if key.rotation_enabled else "disabled"
        literal_row(table, "rotation", rotation)
        return table

    def _jobs(self, jobs: dict[str, int] | AwsCallError) -> Table | Group:
        if isinstance(jobs, AwsCallError):
            return self._unavailable("Import jobs", jobs)
        table = self._section("Import jobs")
        for status, count in jobs.items():
            literal_row(table, status, str(count))
        return table
