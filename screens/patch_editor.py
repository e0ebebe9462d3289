"""The update editor: pick a level and an attribute, type the value, read the patch, then send it.

Also used to confirm a removal (attribute, instance or series): the patch is shown and nothing is
sent until "Remove" is pressed; Cancel has the focus. The update constraints the document can answer
(docs/service.md#update-constraints) are checked as you type (services.metadata_patch) and keep the
send button disabled.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from ahi.services.metadata_patch import LEVELS, AttributeRef, MetadataUpdate, current_value, set_attribute, typed_value, update_problems
from ahi.services.metadata_tree import readable
from ahi.services.validation import FieldProblem
from ahi.tui.literal import DETAIL_LIMIT, literal, safe, visible_lines
from ahi.tui.widgets.literal_input import LiteralInput


def value_text(value: Any) -> str:
    """How an existing value is put in the value field."""
    return "" if value is None else str(value)


class PatchEditorDialog(ModalScreen["MetadataUpdate | None"]):
    """Dismisses with the MetadataUpdate to send, or None."""

    DEFAULT_CSS = """
    PatchEditorDialog { align: center middle; }
    PatchEditorDialog > Vertical { width: 110; max-width: 98%; height: auto; max-height: 95%; border: thick $warning; background: $surface; padding: 0 1; }
    PatchEditorDialog.-removal > Vertical { border: thick $error; }
    PatchEditorDialog .title { text-style: bold; }
    PatchEditorDialog .row { height: auto; }
    PatchEditorDialog .row Label { width: 12; color: $text-muted; }
    PatchEditorDialog .row Input, PatchEditorDialog .row Select { width: 1fr; }
    PatchEditorDialog #current { color: $text-muted; height: auto; }
    PatchEditorDialog #problems { color: $error; height: auto; }
    PatchEditorDialog #preview { height: auto; max-height: 16; border: round $panel; }
    PatchEditorDialog #buttons { height: auto; align-horizontal: right; }
    PatchEditorDialog Button { margin: 0 0 0 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(
        self, document: Mapping[str, Any], ref: AttributeRef | None = None, *, removal: MetadataUpdate | None = None, removal_label: str = "", value: str | None = None
    ) -> None:
        super().__init__()
        self.document = document
        self.ref = ref
        #: The value the editor starts with (None: the attribute's current value).
        self.value = value
        self.removal = removal
        self.removal_label = removal_label
        self.update_to_send: MetadataUpdate | None = removal

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical():
            if self.removal is not None:
                yield Label(literal(f"Remove {self.removal_label}?", limit=200), classes="title")
                yield Static("The patch below goes to UpdateImageSetMetadata as removableAttributes; a new version is created.", id="current")
            else:
                yield Label("Update an attribute (a new version is created)", classes="title")
                yield from self._editor_rows()
                yield Static("", id="current")
            yield Static("", id="problems")
            yield Static("", id="preview")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Remove" if self.removal is not None else "Send update", id="send", variant="error" if self.removal is not None else "warning")

    def _editor_rows(self) -> ComposeResult:
        fixed_level = self.ref is not None
        fixed_keyword = bool(self.ref and self.ref.keyword)
        level = self.ref.level if self.ref else "Patient"
        with Horizontal(classes="row"):
            yield Label("Level")
            yield Select([(name, name) for name in LEVELS], value=level, allow_blank=False, id="level", disabled=fixed_level, compact=True)
        with Horizontal(classes="row", id="series-row"):
            yield Label("Series")
            yield Select(self._series_options(), value=(self.ref.series_uid if self.ref and self.ref.series_uid else Select.NULL), id="series", disabled=fixed_level, compact=True, prompt="choose a series")
        with Horizontal(classes="row", id="instance-row"):
            yield Label("Instance")
            yield Select(self._instance_options(self.ref.series_uid if self.ref else None), value=(self.ref.sop_uid if self.ref and self.ref.sop_uid else Select.NULL), id="instance", disabled=fixed_level, compact=True, prompt="choose an instance")
        with Horizontal(classes="row"):
            yield Label("Attribute")
            yield LiteralInput(self.ref.keyword if self.ref else "", placeholder="DICOM keyword, e.g. PatientName", id="keyword", disabled=fixed_keyword, compact=True)
        with Horizontal(classes="row"):
            yield Label("New value")
            yield LiteralInput(self._initial_value(), placeholder="the new value (Enter, then Enter on Send)", id="value", compact=True)

    def _initial_value(self) -> str:
        if self.value is not None:
            return self.value
        if self.ref is None or not self.ref.keyword:
            return ""
        return value_text(current_value(self.document, self.ref)[1])

    def _series_options(self) -> list[tuple[Text, str]]:
        series = (self.document.get("Study") or {}).get("Series") or {}
        return [(literal(self._series_label(uid, body), limit=120), uid) for uid, body in series.items()]

    @staticmethod
    def _series_label(uid: str, body: Mapping[str, Any]) -> str:
        dicom = body.get("DICOM") or {}
        number = str(dicom.get("SeriesNumber") or "").strip()
        return f"{number} {dicom.get('Modality') or ''} {uid}".strip()

    def _instance_options(self, series_uid: str | None) -> list[tuple[Text, str]]:
        series = ((self.document.get("Study") or {}).get("Series") or {}).get(series_uid or "") or {}
        instances = series.get("Instances") or {}
        labels = ((f"{str((body.get('DICOM') or {}).get('InstanceNumber') or '').strip()} {uid}".strip(), uid) for uid, body in instances.items())
        return [(literal(label, limit=120), uid) for label, uid in labels]

    def on_mount(self) -> None:
        self.set_class(self.removal is not None, "-removal")
        if self.removal is not None:
            self.query_one("#cancel", Button).focus()
        else:
            self._levels_changed()
            target = "#value" if self.ref and self.ref.keyword else "#keyword"
            self.query_one(target, Input).focus()
        self._recompute()

    # --- state ----------------------------------------------------------------------------------

    def current_ref(self) -> AttributeRef:
        level = str(self.query_one("#level", Select).value)
        series = self.query_one("#series", Select).value
        instance = self.query_one("#instance", Select).value
        return AttributeRef(
            level,
            self.query_one("#keyword", Input).value.strip(),
            series if isinstance(series, str) and level in ("Series", "Instance") else None,
            instance if isinstance(instance, str) and level == "Instance" else None,
        )

    def _levels_changed(self) -> None:
        level = self.query_one("#level", Select).value
        self.query_one("#series-row").display = level in ("Series", "Instance")
        self.query_one("#instance-row").display = level == "Instance"

    def _recompute(self) -> None:
        problems: list[FieldProblem] = []
        if self.removal is None:
            ref = self.current_ref()
            if ref.level in ("Series", "Instance") and not ref.series_uid:
                problems.append(FieldProblem("level", "choose the series"))
            elif ref.level == "Instance" and not ref.sop_uid:
                problems.append(FieldProblem("level", "choose the instance"))
            present, existing = current_value(self.document, ref) if ref.keyword else (False, None)
            value = typed_value(ref.keyword, self.query_one("#value", Input).value, existing) if ref.keyword else ""
            current = readable(ref.keyword, existing) if present else "(not set: this inserts it)" if ref.keyword else ""
            self.query_one("#current", Static).update(safe(Text.assemble(("current value: ", "dim"), current), limit=DETAIL_LIMIT) if current else "")
            if not problems:
                problems = update_problems(self.document, ref, value)
            self.update_to_send = set_attribute(ref, value) if ref.keyword else None
        if self.update_to_send is not None:
            problems += self.update_to_send.problems()
            self.query_one("#preview", Static).update(Syntax(visible_lines(self.update_to_send.preview()), "json", theme="ansi_dark", word_wrap=True))
        self.query_one("#problems", Static).update(literal("\n".join(str(p) for p in problems), multiline=True))
        self.query_one("#send", Button).disabled = bool(problems) or self.update_to_send is None

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "series":
            value = event.value if isinstance(event.value, str) else None
            self.query_one("#instance", Select).set_options(self._instance_options(value))
        self._levels_changed()
        self._recompute()

    @on(Input.Changed)
    def _input_changed(self) -> None:
        self._recompute()

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "keyword":
            self.query_one("#value", Input).focus()
        elif not self.query_one("#send", Button).disabled:
            self.query_one("#send", Button).focus()

    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        self._recompute()
        if not self.query_one("#send", Button).disabled:
            self.dismiss(self.update_to_send)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
