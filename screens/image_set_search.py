"""Image set search: a form with every SearchImageSets filter and sort, results page by page.

The form is checked before anything is sent and each problem is shown at its field. Results load a
page at a time (`m` loads more); the table filters and sorts the loaded rows locally, and marked rows
feed the bulk tag actions. `:sets PATIENTID` searches at once, `:sets DATASTOREID` lists a store,
`:sets @NAME` runs a saved search. "(all data stores)" (or `:sets *`) runs the search on every ACTIVE store of the
region at once, each row naming its store (docs/fleet.md#image-sets-across-data-stores).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Iterable

from rich.text import Text
from textual import on
from textual.containers import Grid, Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Checkbox, DataTable, Input, Label, Select, Static

from ahi.screens.frame_viewer import FrameViewerScreen
from ahi.screens.image_set_base import note_access
from ahi.screens.image_set_detail import ImageSetDetailScreen
from ahi.screens.prompt_dialog import PromptDialog
from ahi.screens.saved_searches import SavedSearchDialog, name_problem, save_search
from ahi.screens.study_conflicts import StudyConflictsScreen
from ahi.screens.taggable import TaggableScreen
from ahi.services.datastores import Datastore
from ahi.services.imagesets import ImageSetSummary, SearchPage
from ahi.services.metadata_tree import dicom_date, person_name
from ahi.services.search_all import StoresPage, search_stores
from ahi.services.search_criteria import LABELS, SORT_FIELDS, SORT_ORDERS, CheckedSearch, SearchForm, check_search, describe_criteria
from ahi.services.tiers import ARCHIVE, access_notice, short_tier_name, touched
from ahi.tui.actions import REGISTRY, Action
from ahi.tui.format import role_text
from ahi.tui.literal import DETAIL_LIMIT, literal, safe
from ahi.tui.widgets.check import Check
from ahi.tui.widgets.field_group import FieldGroup
from ahi.tui.widgets.in_order_input import InOrderInput
from ahi.tui.widgets.resource_table import Column, ResourceTable, Row

SCOPE = "image_set_search"
REGISTRY.register(
    Action("image_sets.open", "open", "enter", "Open image set", SCOPE, footer=False),
    Action("image_sets.edit", "edit_search", "e", "Edit search", SCOPE, command="search"),
    Action("image_sets.load_more", "load_more", "m", "Load more", SCOPE, command="more"),
    Action("image_sets.preview", "preview", "v", "Preview frames", SCOPE, command="preview"),
    Action("image_sets.save_search", "save_search", "ctrl+s", "Save search as…", SCOPE, command="save"),
    Action("image_sets.saved_searches", "saved_searches", "o", "Saved searches", SCOPE, command="searches"),
    Action("image_sets.clear_form", "clear_form", "X", "Clear the form", SCOPE, footer=False, command="clear"),
    Action("image_sets.conflicts", "conflicts", "f", "Study conflicts", SCOPE, footer=False, command="conflicts"),
)

COLUMNS = (
    Column("patient_id", "patient ID", 16),
    Column("patient_name", "patient name", 22),
    Column("sex", "sex", 3),
    Column("study_date", "study date", 10),
    Column("accession", "accession", 12),
    Column("description", "study description", 22),
    Column("modality", "mod", 4),
    Column("series", "ser", 4),
    Column("instances", "inst", 5),
    Column("version", "ver", 3),
    Column("role", "role", 11),
    Column("tier", "tier", 10),
    Column("accessed", "last access", 19),
    Column("updated", "updated", 19),
    Column("id", "image set ID", 32),
)
#: The data store choice that searches every ACTIVE store of the region; its rows lead with their store.
ALL_STORES = "*"
ALL_STORES_LABEL = "(all data stores)"
ALL_STORES_COLUMNS = (Column("datastore", "data store", 14), *COLUMNS)
TEXT_FIELDS = tuple(f.name for f in fields(SearchForm) if f.type == "str" and f.name not in ("sort_field", "sort_order", "datastore_id"))
#: Grid order of the form: four cells a row, UIDs two cells wide.
FORM_ORDER = (
    "patient_id", "accession_number", "study_id", "primary_only",
    "study_instance_uid", "series_instance_uid",
    "study_date_from", "study_time_from", "study_date_to", "study_time_to",
    "created_from", "created_to", "updated_from", "updated_to",
)
PLACEHOLDERS = {
    "study_instance_uid": "1.2.840…",
    "series_instance_uid": "1.2.840…",
    "study_date_from": "YYYYMMDD",
    "study_date_to": "YYYYMMDD",
    "study_time_from": "HHMMSS",
    "study_time_to": "HHMMSS",
    "created_from": "2024-03-15[T09:30Z]",
    "created_to": "2024-03-15[T09:30Z]",
    "updated_from": "2024-03-15[T09:30Z]",
    "updated_to": "2024-03-15[T09:30Z]",
}
DEFAULT_SORT = "default (updatedAt)"


@dataclass(frozen=True)
class SearchRun:
    """One search to run (or, with `criteria` None, only the data stores to load)."""

    datastore_id: str | None
    form: SearchForm
    criteria: dict[str, Any] | None


@dataclass(frozen=True)
class SearchOutcome:
    """What a refresh found: the ACTIVE data stores, where it searched, and the first page."""

    datastores: list[Datastore]
    run: SearchRun
    page: SearchPage | None
    #: With every store searched: each store's next token, and the stores that could not be searched.
    stores: StoresPage | None = None


def resolve_argument(argument: str | None, datastores: list[Datastore], saved: dict[str, dict[str, Any]]) -> tuple[str | None, SearchForm | None]:
    """`:sets ARG`: a data store ID, `@saved-search`, or a patient ID -> (data store, form to run)."""
    if not argument:
        return None, None
    if argument.startswith("@") and argument[1:] in saved:
        form = SearchForm.from_values(saved[argument[1:]])
        return form.datastore_id or None, form
    if argument in {store.id for store in datastores} or argument == ALL_STORES:
        return argument, SearchForm(datastore_id=argument)
    return None, SearchForm(patient_id=argument)


class ImageSetSearchScreen(TaggableScreen):
    """`:sets`: the search form above, the results below."""

    CSS_PATH = "image_set_search.tcss"
    SCOPE = SCOPE
    FETCH_OPERATION = "SearchImageSets"
    AUTO_REFRESH = False
    crumb = "Image sets"

    def __init__(self, argument: str | None = None) -> None:
        super().__init__()
        self.argument = argument
        self.datastores: list[Datastore] | None = None
        self.context_datastore: str | None = None
        self.pending: SearchRun | None = None
        self.last_run: SearchRun | None = None
        self.next_token: str | None = None
        #: Set while the shown results come from every data store (ALL_STORES).
        self.stores: StoresPage | None = None
        self.summaries: dict[str, ImageSetSummary] = {}

    # --- layout ---------------------------------------------------------------------------------

    def compose_body(self) -> Iterable[Widget]:
        with FieldGroup(id="search-form", submit=self.run_search, lands_on=lambda: self.query_one(ResourceTable)):
            with Grid(id="form-top"):
                yield self._field("datastore_id", Select([], prompt="choose a data store", id="f-datastore_id", compact=True), wide=True)
                sort_options = [(DEFAULT_SORT, ""), *((name, name) for name in SORT_FIELDS)]
                yield self._field("sort_field", Select(sort_options, allow_blank=False, value="", id="f-sort_field", compact=True))
                yield self._field("sort_order", Select([(o, o) for o in SORT_ORDERS], allow_blank=False, value="DESC", id="f-sort_order", compact=True))
            with Grid(id="form-fields"):
                for name in FORM_ORDER:
                    if name == "primary_only":
                        yield self._field(name, Check("", id="f-primary_only", compact=True))
                    else:
                        yield self._field(name, InOrderInput(placeholder=PLACEHOLDERS.get(name, ""), id=f"f-{name}", compact=True))
            yield Static("", id="search-summary")
        yield ResourceTable(COLUMNS, id="image-sets")

    def _field(self, name: str, widget: Widget, wide: bool = False) -> Vertical:
        """A form cell: label and input on one line, the field's problem under them."""
        line = Horizontal(Label(LABELS[name], classes="field-label"), widget, classes="field-line")
        cell = Vertical(line, Static("", id=f"p-{name}", classes="field-problem"), classes="field")
        cell.set_class(wide or name in ("study_instance_uid", "series_instance_uid"), "wide")
        return cell

    def on_mount(self) -> None:
        self.context_datastore = self._datastore_in_context()
        super().on_mount()
        if not self.argument:
            self.query_one("#f-patient_id", Input).focus()

    def _datastore_in_context(self) -> str | None:
        """The data store the user came from: the one open or under the cursor on a screen below."""
        for screen in reversed(self.app.screen_stack[:-1]):
            resource = screen.current_resource() if hasattr(screen, "current_resource") else None
            resource = getattr(screen, "datastore", None) or resource
            if isinstance(resource, Datastore):
                return resource.id
        return None

    # --- loading --------------------------------------------------------------------------------

    def fetch(self) -> SearchOutcome:
        hub = self.ahi.services
        datastores = self.datastores
        if datastores is None:
            datastores = [store for store in hub.datastores.list() if store.status == "ACTIVE"]
        run = self.pending
        if run is None and self.argument is not None:
            store, form = resolve_argument(self.argument, datastores, self.ahi.config.searches)
            self.argument = None
            if form is not None:
                checked = check_search(form)
                run = SearchRun(store or form.datastore_id or self._default_datastore(datastores), form, checked.criteria if checked.ok else None)
        if run is None:
            run = SearchRun(self._default_datastore(datastores), self.last_run.form if self.last_run else SearchForm(), None)
            if self.last_run is not None and self.last_run.criteria is not None:
                run = self.last_run
        page = None
        if run.criteria is not None and run.datastore_id == ALL_STORES:
            stores = search_stores(hub.imagesets, [store.id for store in datastores], run.criteria)
            return SearchOutcome(datastores, run, SearchPage(stores.summaries, None), stores)
        if run.criteria is not None and run.datastore_id:
            page = hub.imagesets.search(run.datastore_id, run.criteria)
        return SearchOutcome(datastores, run, page)

    def _default_datastore(self, datastores: list[Datastore]) -> str | None:
        ids = [store.id for store in datastores]
        if self.last_run is not None and self.last_run.datastore_id in (*ids, ALL_STORES):
            return self.last_run.datastore_id
        if self.context_datastore in ids:
            return self.context_datastore
        return ids[0] if ids else None

    def show(self, result: SearchOutcome) -> None:
        first_load = self.datastores is None
        self.datastores = result.datastores
        self.pending = None
        run = result.run
        if first_load:
            select = self.query_one("#f-datastore_id", Select)
            options = [(self.ahi.formatter.literal(f"{store.name}  {store.id}", limit=120), store.id) for store in result.datastores]
            select.set_options([*options, *([(Text(ALL_STORES_LABEL), ALL_STORES)] if len(options) > 1 else [])])
        if run.datastore_id and (first_load or run.criteria is not None):
            self.query_one("#f-datastore_id", Select).value = run.datastore_id
        if run.criteria is not None or not run.form.is_empty():
            self._fill_form(run.form)
        self.last_run = run
        if run.criteria is None:
            if not run.datastore_id:
                self._summary(Text("No ACTIVE data store to search.", style="yellow"))
            else:
                self._summary(Text("Enter runs the search (an empty form lists every image set)", style="dim"))
            return
        if result.page is not None:
            self.summaries = {s.id: s for s in result.page.summaries}
            self.next_token = result.page.next_token
            self._show_stores(result.stores)
            self.query_one(ResourceTable).set_rows([self._row(s) for s in self.summaries.values()])
            self._summary(self._describe(run))
            if first_load or self.focused is None or isinstance(self.focused, (Input, Select, Checkbox)):
                self.query_one(ResourceTable).focus()

    def _show_stores(self, stores: StoresPage | None) -> None:
        """Every store searched: the data store column leads; otherwise the usual columns."""
        self.stores = stores
        table = self.query_one(ResourceTable)
        wanted = ALL_STORES_COLUMNS if stores is not None else COLUMNS
        if [c.key for c in table.resource_columns] != [c.key for c in wanted]:
            table.set_columns(wanted)

    def _describe(self, run: SearchRun) -> Text:
        text = Text.assemble(("search (server): ", "dim"), describe_criteria(run.criteria or {}))
        stores = self.stores
        if stores is not None:
            text.append(f"  ·  {len(self.datastores or [])} data stores", style="dim")
            if stores.errors:
                failed = ", ".join(f"{store} ({error.code})" for store, error in stores.errors.items())
                text.append(f"  ·  not searched: {failed}", style="bold red")
        more = self.next_token or (stores is not None and stores.next_tokens)
        text.append(f"  ·  {len(self.summaries)} loaded", style="bold")
        text.append("  ·  more available (m)" if more else "  ·  all loaded", style="dim")
        return text

    def _summary(self, text: Text) -> None:
        self.query_one("#search-summary", Static).update(safe(text, limit=DETAIL_LIMIT, multiline=False))

    def _row(self, summary: ImageSetSummary) -> Row:
        fmt, tags = self.ahi.formatter, summary.dicom
        names = {store.id: store.name for store in self.datastores or []}
        cells = {
            "datastore": fmt.text(names.get(summary.datastore_id) or summary.datastore_id),
            "patient_id": fmt.text(tags.get("DICOMPatientId")),
            "patient_name": fmt.text(person_name(str(tags.get("DICOMPatientName") or "")) or None),
            "sex": fmt.text(tags.get("DICOMPatientSex")),
            "study_date": fmt.text(dicom_date(str(tags.get("DICOMStudyDate") or "")) or None),
            "accession": fmt.text(tags.get("DICOMAccessionNumber")),
            "description": fmt.text(tags.get("DICOMStudyDescription")),
            "modality": fmt.text(tags.get("DICOMSeriesModality")),
            "series": fmt.text(tags.get("DICOMNumberOfStudyRelatedSeries")),
            "instances": fmt.text(tags.get("DICOMNumberOfStudyRelatedInstances")),
            "version": fmt.text(summary.version),
            "role": role_text(summary.is_primary),
            "updated": fmt.time(summary.updated_at),
            "tier": Text(short_tier_name(summary.storage_tier), style="yellow" if summary.storage_tier == ARCHIVE else ""),
            "accessed": fmt.time(summary.last_accessed_at),
            "id": fmt.text(summary.id),
        }
        sort_values = {
            "updated": summary.updated_at,
            "accessed": summary.last_accessed_at,
            "version": summary.version,
            "series": tags.get("DICOMNumberOfStudyRelatedSeries"),
            "instances": tags.get("DICOMNumberOfStudyRelatedInstances"),
        }
        return Row(key=summary.id, cells=cells, resource=summary, sort_values=sort_values)

    # --- the form -------------------------------------------------------------------------------

    def read_form(self) -> SearchForm:
        values: dict[str, Any] = {name: self.query_one(f"#f-{name}", Input).value for name in TEXT_FIELDS}
        values["primary_only"] = self.query_one("#f-primary_only", Checkbox).value
        values["sort_field"] = self.query_one("#f-sort_field", Select).value
        values["sort_order"] = self.query_one("#f-sort_order", Select).value
        store = self.query_one("#f-datastore_id", Select).value
        values["datastore_id"] = store if isinstance(store, str) else ""
        return SearchForm.from_values(values)

    def _fill_form(self, form: SearchForm) -> None:
        for name in TEXT_FIELDS:
            widget = self.query_one(f"#f-{name}", Input)
            if widget.value != getattr(form, name):
                widget.value = getattr(form, name)
        self.query_one("#f-primary_only", Checkbox).value = form.primary_only
        self.query_one("#f-sort_field", Select).value = form.sort_field
        self.query_one("#f-sort_order", Select).value = form.sort_order
        self._show_problems(check_search(form))

    def _show_problems(self, checked: CheckedSearch) -> None:
        for name in LABELS:
            problem = checked.problem_for(name)
            self._problem_at(name, problem)

    def _problem_at(self, name: str, problem: str | None) -> None:
        note = self.query_one(f"#p-{name}", Static)
        note.update(literal(problem or "", multiline=True))
        note.display = problem is not None
        self.query_one(f"#f-{name}").set_class(problem is not None, "-invalid")

    def run_search(self) -> None:
        """Check the form; send it only when every field is right."""
        form = self.read_form()
        checked = check_search(form)
        self._show_problems(checked)
        if not form.datastore_id:
            self._problem_at("datastore_id", "choose a data store")
            self.query_one("#f-datastore_id").focus()
            return
        if not checked.ok:
            self._summary(Text(f"{len(checked.problems)} problem(s): see the fields in red; nothing was sent", style="bold red"))
            wrong = next((name for name in FORM_ORDER if checked.problem_for(name) is not None), "patient_id")
            self.query_one(f"#f-{wrong}").focus()
            return
        self.pending = SearchRun(form.datastore_id, form, checked.criteria)
        self.query_one(ResourceTable).focus()
        self.refresh_now()

    @on(Input.Changed, "#search-form Input")
    def _changed(self, event: Input.Changed) -> None:
        if event.input.has_class("-invalid"):
            name = (event.input.id or "").removeprefix("f-")
            self._problem_at(name, check_search(self.read_form()).problem_for(name))

    def action_back(self) -> None:
        if isinstance(self.focused, (Input, Select, Checkbox)):
            self.query_one(ResourceTable).focus()
            return
        super().action_back()

    def action_edit_search(self) -> None:
        self.query_one("#f-patient_id", Input).focus()

    def action_clear_form(self) -> None:
        store = self.read_form().datastore_id
        self._fill_form(SearchForm(datastore_id=store))
        self._show_problems(CheckedSearch([], {}))
        self.action_edit_search()

    def refresh_now(self) -> None:
        """`r` runs the last search again (from its first page)."""
        if self.pending is None and self.last_run is not None and self.last_run.criteria is not None:
            self.pending = self.last_run
        super().refresh_now()

    # --- results --------------------------------------------------------------------------------

    def action_load_more(self) -> None:
        if self.pending is not None:
            self.notify("The search is still running; its first page comes first", severity="information")
            return
        run = self.last_run
        stores = self.stores
        if run is not None and run.criteria is not None and stores is not None and stores.next_tokens:
            hub, criteria, tokens = self.ahi.services, run.criteria, dict(stores.next_tokens)
            ids = list(tokens)
            self.call_in_background("SearchImageSets", lambda: search_stores(hub.imagesets, ids, criteria, tokens), self._more_loaded)
            return
        if run is None or run.criteria is None or not self.next_token or not run.datastore_id:
            self.notify("Everything is loaded", severity="information")
            return
        hub, token, criteria, store = self.ahi.services, self.next_token, run.criteria, run.datastore_id
        self.call_in_background("SearchImageSets", lambda: hub.imagesets.search(store, criteria, token), self._more_loaded)

    def _more_loaded(self, page: SearchPage | StoresPage) -> None:
        if isinstance(page, StoresPage):
            self.stores = StoresPage([], page.next_tokens, {**(self.stores.errors if self.stores else {}), **page.errors})
        for summary in page.summaries:
            self.summaries.setdefault(summary.id, summary)
        self.next_token = page.next_token if isinstance(page, SearchPage) else None
        self.query_one(ResourceTable).set_rows([self._row(s) for s in self.summaries.values()])
        if self.last_run is not None:
            self._summary(self._describe(self.last_run))
        self.update_status()

    def forget(self, image_set_id: str) -> None:
        """Drop a deleted image set from the loaded rows."""
        if self.summaries.pop(image_set_id, None) is not None:
            self.query_one(ResourceTable).set_rows([self._row(s) for s in self.summaries.values()])
            self.update_status()

    def _selected(self) -> ImageSetSummary | None:
        resource = self.current_resource()
        if not isinstance(resource, ImageSetSummary):
            self.notify("Select an image set first", severity="warning")
            return None
        return resource

    def action_open(self) -> None:
        summary = self._selected()
        if summary is not None:
            self.app.push_screen(ImageSetDetailScreen(summary.datastore_id, summary.id, self._label(summary)))

    @on(DataTable.RowSelected, "#image-sets")
    def _row_selected(self) -> None:
        self.action_open()

    def action_preview(self) -> None:
        summary = self._selected()
        if summary is not None:
            self._warn_access(summary)
            self.app.push_screen(FrameViewerScreen(summary.datastore_id, summary.id))

    def _warn_access(self, summary: ImageSetSummary) -> None:
        """Before a read of the row's image set: the notice when it is in Archive Instant Access, then its new tier."""
        notice = access_notice(summary.id, summary.storage_tier)
        if notice is not None:
            self.notify(notice, title="storage tier", severity="warning")
        note_access(self.app, summary.id)

    def image_set_accessed(self, image_set_id: str) -> None:
        """An access moved the image set to Frequent Access (docs/version-diff.md#tiers): redraw its row."""
        summary = self.summaries.get(image_set_id)
        if summary is not None and touched(summary) is not summary:
            self.summaries[image_set_id] = touched(summary)
            self.query_one(ResourceTable).set_rows([self._row(s) for s in self.summaries.values()])

    def action_conflicts(self) -> None:
        """The primary and non-primary image sets of the row's study (docs/conflicts.md)."""
        summary = self._selected()
        if summary is not None:
            self._warn_access(summary)  # the view reads its metadata to find the study
            self.app.push_screen(StudyConflictsScreen(summary.datastore_id, [summary.id]))

    def _label(self, summary: ImageSetSummary) -> str:
        name = person_name(str(summary.dicom.get("DICOMPatientName") or ""))
        patient = summary.dicom.get("DICOMPatientId")
        return " ".join(part for part in (name, f"({patient})" if patient else "") if part) or summary.id

    # --- saved searches -------------------------------------------------------------------------

    def action_save_search(self) -> None:
        form = self.read_form()
        checked = check_search(form)
        if not checked.ok:
            self._show_problems(checked)
            self.notify("Fix the fields in red before saving", severity="error")
            return

        def named(name: str | None) -> None:
            if not name:
                return
            try:
                self.ahi.config = save_search(self.ahi.config, name, form)
            except Exception as exc:  # a read-only or broken config file is reported, not fatal
                self.notify(f"Cannot save the search: {exc}", severity="error")
                return
            self.notify(f"Saved search {name!r} (run it with o or :sets @{name})", title="saved")

        self.app.push_screen(PromptDialog("Save this search as", "Kept in the console's config file.", check=name_problem), named)

    def action_saved_searches(self) -> None:
        searches = self.ahi.config.searches
        if not searches:
            self.notify("No saved searches yet (ctrl+s saves the form)", severity="warning")
            return

        def chosen(name: str | None) -> None:
            if name is None:
                return
            form = SearchForm.from_values(searches[name])
            if form.datastore_id and self.datastores and form.datastore_id not in {ALL_STORES, *(s.id for s in self.datastores)}:
                self.notify(f"Saved search {name!r} is for data store {form.datastore_id}, which is not ACTIVE here", severity="warning")
                form = SearchForm.from_values({**form.values(), "datastore_id": self.read_form().datastore_id})
            elif not form.datastore_id:
                form = SearchForm.from_values({**form.values(), "datastore_id": self.read_form().datastore_id})
            self._fill_form(form)
            if form.datastore_id:
                self.query_one("#f-datastore_id", Select).value = form.datastore_id
            self.run_search()

        self.app.push_screen(SavedSearchDialog(searches), chosen)
