"""Image set screens through Pilot against the local endpoint with real imports: search, detail,
metadata, frame preview, update/delete with their confirmations, read-only gating."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest
from console_harness import FROZEN, AppFactory, drive, notifications, settle, until, widget_text
from image_set_world import PATIENT_A, PATIENT_B, World, fixed_image_set_ids, import_world
from textual.pilot import Pilot
from textual.widgets import Input, Select, Tree

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.screens.frame_viewer import FrameViewerScreen, frames_by_series
from ahi.screens.image_set_detail import ImageSetDetailScreen
from ahi.screens.image_set_search import ImageSetSearchScreen
from ahi.screens.metadata_view import MetadataViewScreen
from ahi.screens.patch_editor import PatchEditorDialog
from ahi.screens.saved_searches import name_problem, with_search
from ahi.services.metadata_patch import AttributeRef, set_attribute
from ahi.tui.actions import REGISTRY
from ahi.tui.config import ConfigError, load_config, parse_config
from ahi.tui.dialogs.confirm import ConfirmDialog
from ahi.tui.widgets.frame_preview import FramePreview
from ahi.tui.widgets.lock_banner import LockBanner
from ahi.tui.widgets.resource_table import ResourceTable


@pytest.fixture
def endpoint_config(endpoint_config: EndpointConfig) -> EndpointConfig:
    endpoint_config.datastore_transition_seconds = 0
    endpoint_config.imageset_lock_seconds = 0.4
    return endpoint_config


@pytest.fixture
def world(endpoint: LocalEndpoint, monkeypatch: pytest.MonkeyPatch, mi: Any, s3: Any) -> World:
    """The imported world with sequential IDs; the endpoint's clock starts at FROZEN and runs (locks expire)."""
    fixed_image_set_ids(monkeypatch)
    assert endpoint.runtime is not None
    started = time.monotonic()
    endpoint.runtime.clock = lambda: FROZEN.timestamp() + (time.monotonic() - started)
    monkeypatch.setattr(LockBanner, "interval_s", 0.1)
    return import_world(mi, s3)


@pytest.fixture
def banner_lines(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every line any LockBanner showed, in order (LOCKED can be over before a test looks)."""
    shown: list[str] = []
    original = LockBanner.update

    def record(self: LockBanner, content: Any = "", **kwargs: Any) -> None:
        shown.append(str(content))
        original(self, content, **kwargs)

    monkeypatch.setattr(LockBanner, "update", record)
    return shown


def rows(app: Any) -> list[Any]:
    return [row.resource for row in app.screen.query_one("#image-sets", ResourceTable).visible_rows]


async def search_patient(pilot: Pilot[Any], patient_id: str) -> None:
    await pilot.press("colon", *f"sets {patient_id}", "enter")
    await settle(pilot)


def test_search_by_patient_from_the_command_line(world: World, make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await search_patient(pilot, PATIENT_A.patient_id)
        assert isinstance(app.screen, ImageSetSearchScreen)
        found = rows(app)
        assert {s.id for s in found} == {world.image_sets["ct"], world.image_sets["us"]}
        assert all(s.dicom["DICOMPatientId"] == PATIENT_A.patient_id for s in found)
        assert app.screen.query_one("#f-patient_id", Input).value == PATIENT_A.patient_id
        searches = [r for r in app.call_log.records() if r.operation == "SearchImageSets"]
        assert len(searches) == 1 and searches[0].ok
        assert "search-image-sets" in searches[0].cli_command and "<omitted>" in searches[0].cli_command
        assert app.screen.last_run.criteria == {"filters": [{"operator": "EQUAL", "values": [{"DICOMPatientId": PATIENT_A.patient_id}]}]}
        table = app.screen.query_one("#image-sets", ResourceTable)
        cells = {row.resource.id: row.plain() for row in table.visible_rows}
        assert cells[world.ct]["patient_name"] == "Phantom, Shepp Logan"
        assert cells[world.ct]["study_date"] == "2024-03-15"
        assert cells[world.ct]["modality"] == "CT" and cells[world.ct]["instances"] == "4"

    drive(app, scenario)


def test_form_is_checked_before_sending_and_results_load_page_by_page(world: World, make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        app.services.imagesets.page_size = 2
        await pilot.press("colon", *"sets", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImageSetSearchScreen)
        screen.query_one("#f-study_instance_uid", Input).value = "1.2.840.x"
        screen.query_one("#f-study_date_from", Input).value = "20240230"
        screen.query_one("#f-created_from", Input).value = "2024-02-01"
        screen.query_one("#f-created_to", Input).value = "2024-01-01"
        screen.query_one("#f-patient_id", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "letters" in widget_text(screen.query_one("#p-study_instance_uid"))
        assert "not a day of the calendar" in widget_text(screen.query_one("#p-study_date_from"))
        assert "before the start" in widget_text(screen.query_one("#p-created_to"))
        assert screen.query_one("#f-study_instance_uid").has_class("-invalid")
        assert not [r for r in app.call_log.records() if r.operation == "SearchImageSets"]
        for name in ("study_instance_uid", "study_date_from", "created_from", "created_to"):
            screen.query_one(f"#f-{name}", Input).value = ""
        await pilot.press("enter")
        assert app.focused is screen.query_one("#image-sets"), "Enter sends the focus to the results at once"
        await settle(pilot)
        assert len(rows(app)) == 2 and screen.next_token
        assert "more available (m)" in widget_text(screen.query_one("#search-summary"))
        await pilot.press("m")
        await settle(pilot)
        assert {s.id for s in rows(app)} == set(world.image_sets.values())
        assert screen.next_token is None
        pages = [r for r in app.call_log.records() if r.operation == "SearchImageSets"]
        assert len(pages) == 2 and all(r.ok for r in pages)
        await pilot.press("slash", *"doe")
        assert [s.dicom["DICOMPatientId"] for s in rows(app)] == [PATIENT_B.patient_id]
        await pilot.press("enter", "escape", "space", "down", "space")
        assert len(screen.query_one("#image-sets", ResourceTable).marked) == 2
        assert "2 marked" in widget_text(screen.query_one("#status-line"))

    drive(app, scenario)


async def open_ct(pilot: Pilot[Any], world: World, search: bool = True) -> ImageSetDetailScreen:
    """`:sets AHI-DEMO-001` (unless already searched), cursor to the CT image set, Enter."""
    app = pilot.app
    if search:
        await search_patient(pilot, PATIENT_A.patient_id)
    ids = [s.id for s in rows(app)]
    for _ in range(ids.index(world.ct)):
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, ImageSetDetailScreen) and app.screen.image_set_id == world.ct
    return app.screen


def test_open_a_result_and_read_its_metadata(world: World, make_app: AppFactory, tmp_path: Any) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        detail = await open_ct(pilot, world)
        properties = widget_text(detail.query_one("#properties"))
        assert "latest version" in properties and "ACTIVE" in properties and "CREATED" in properties
        assert "arn:aws:medical-imaging:us-east-1:123456789012" in properties
        assert [v.version_id for v in (row.resource for row in detail.query_one(ResourceTable).visible_rows)] == ["1"]
        await pilot.press("m")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, MetadataViewScreen)
        tree = view.query_one(Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert "Patient" in labels and "Study" in labels
        await pilot.press("slash", *"shepp", "enter")
        await settle(pilot)
        await pilot.pause()
        assert tree.cursor_node is not None and str(tree.cursor_node.label) == "PatientName: Phantom, Shepp Logan"
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"FrameSizeInBytes", "enter")
        await settle(pilot)
        assert len(view.matches) == 4
        await pilot.press("n")
        await pilot.pause()
        assert view.match_index == 1 and str(tree.cursor_node.label).startswith("FrameSizeInBytes")
        await pilot.press("y")
        await pilot.pause()
        assert "FrameSizeInBytes" in app.screen.document_text
        await pilot.press("escape")
        target = tmp_path / "exported.json"
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        exported = json.loads(target.read_text())
        assert exported["ImageSetID"] == world.ct and exported["Patient"]["DICOM"]["PatientID"] == PATIENT_A.patient_id
        assert any(str(target) in message for message in notifications(app))

    drive(app, scenario)


def test_preview_change_preset_and_step_frames(world: World, make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_ct(pilot, world)
        await pilot.press("v")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, FrameViewerScreen)
        preview = viewer.query_one(FramePreview)
        await until(pilot, lambda: preview.decoded is not None)
        assert len(preview.frames) == 4 and preview.index == 0
        assert preview.decoded.checksum.state.value == "ok"
        assert preview.window is not None and preview.window.label == "DICOM"
        await pilot.press("w")
        await until(pilot, lambda: preview.window is not None and preview.window.label != "DICOM")
        first_preset = preview.window.label
        await pilot.press("w")
        await until(pilot, lambda: preview.window.label != first_preset)
        await pilot.press("right", "right")
        await until(pilot, lambda: preview.decoded.key == preview.request.key)
        assert preview.index == 2 and "Instance 3" in preview.request.labels.instance
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: preview.decoded.key == preview.request.key)
        assert preview.index == 1
        assert "frame 2/4" in widget_text(viewer.query_one("#status-line"))
        fetched = [r for r in app.call_log.records() if r.operation == "GetImageFrame"]
        assert fetched and all(r.ok for r in fetched)
        assert not viewer.mismatches

    drive(app, scenario)


def test_update_an_attribute_and_see_the_new_version(world: World, make_app: AppFactory, banner_lines: list[str]) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_ct(pilot, world)
        await pilot.press("m")
        await settle(pilot)
        view = app.screen
        await pilot.press("slash", *"PatientName", "enter")
        await settle(pilot)
        await pilot.pause()
        await pilot.press("u")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, PatchEditorDialog)
        value = editor.query_one("#value", Input)
        assert value.value == "Phantom^Shepp^Logan"
        await pilot.press("ctrl+a", "ctrl+k", *"Phantom^Renamed")
        preview = widget_text(editor.query_one("#preview"))
        assert '"PatientName": "Phantom^Renamed"' in preview and "updatableAttributes" in preview
        await pilot.press("enter")
        assert app.focused is editor.query_one("#send")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is view
        banner = view.query_one(LockBanner)
        await until(pilot, lambda: not banner.active and view.loaded is not None and view.loaded.version_id == "2")
        assert banner_lines[0].startswith("⟳ LOCKED · UPDATING · version 2")
        assert "UPDATED" in widget_text(banner) and "version 2" in widget_text(banner)
        names = [n for n in view.loaded.tree.walk() if n.label == "PatientName"]
        assert names[0].value == "Phantom, Renamed"

        await pilot.press("slash", "ctrl+a", "ctrl+k", *"ReferringPhysicianName", "enter")
        await settle(pilot)
        await pilot.pause()
        await pilot.press("x")
        await settle(pilot)
        removal = app.screen
        assert isinstance(removal, PatchEditorDialog) and app.focused is removal.query_one("#cancel")
        assert '"ReferringPhysicianName": "Referrer^Demo"' in widget_text(removal.query_one("#preview"))
        assert "removableAttributes" in widget_text(removal.query_one("#preview"))
        await pilot.press("tab", "enter")
        await until(pilot, lambda: not banner.active and view.loaded is not None and view.loaded.version_id == "3")
        assert not [n for n in view.loaded.tree.walk() if n.label == "ReferringPhysicianName"]
        updates = [r for r in app.call_log.records() if r.operation == "UpdateImageSetMetadata"]
        assert len(updates) == 2 and all(r.ok for r in updates)

        await pilot.press("escape")
        await until(pilot, lambda: len(app.screen.query_one(ResourceTable).rows_all) == 3)
        detail = app.screen
        table = detail.query_one(ResourceTable)
        versions = {row.resource.version_id: row.resource for row in table.rows_all}
        assert versions["2"].workflow_status == "UPDATED" and versions["2"].state == "ACTIVE"
        properties = widget_text(detail.query_one("#properties"))
        assert "latest version" in properties and "UPDATED" in properties
        table.move_cursor(row=[row.key for row in table.visible_rows].index("1"))
        await pilot.press("enter")
        await settle(pilot)
        properties = widget_text(detail.query_one("#properties"))
        assert "version 1 (latest is 3)" in properties and "CREATED" in properties
        assert "showing version 1 of 3" in widget_text(detail.query_one("#status-line"))
        await pilot.press("m")
        await settle(pilot)
        assert app.screen.loaded.version_id == "1"
        assert [n.value for n in app.screen.loaded.tree.walk() if n.label == "PatientName"] == ["Phantom, Shepp Logan"]

    drive(app, scenario)


def test_found_locked_then_delete_needs_the_typed_id(world: World, make_app: AppFactory, mi: Any, endpoint: LocalEndpoint, banner_lines: list[str]) -> None:
    app = make_app()
    assert endpoint.runtime is not None
    patch = json.dumps({"SchemaVersion": "1.1", "Study": {"DICOM": {"StudyDescription": "Elsewhere"}}})

    async def scenario(pilot: Pilot[Any]) -> None:
        await search_patient(pilot, PATIENT_A.patient_id)
        endpoint.runtime.config.imageset_lock_seconds = 4.0
        mi.update_image_set_metadata(
            datastoreId=world.datastore_id, imageSetId=world.ct, latestVersionId="1",
            updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": patch}},
        )
        endpoint.runtime.config.imageset_lock_seconds = 0.4
        detail = await open_ct(pilot, world, search=False)
        banner = detail.query_one(LockBanner)
        await until(pilot, lambda: not banner.active and detail.latest is not None and not detail.latest.locked)
        assert banner_lines[0].startswith("⟳ LOCKED · UPDATING · version 2")
        assert "✓ UPDATED · version 2" in widget_text(banner)
        # Polls back off (0.1 s growing to 1 s here): about 10 GetImageSet calls over the 4 s lock, not 40.
        assert len([r for r in app.call_log.records() if r.operation == "GetImageSet"]) <= 16
        await pilot.press("D")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert app.focused is dialog.query_one("#typed")
        await pilot.press(*world.ct[:-2], "enter")
        assert "does not match" in widget_text(dialog.query_one("#problem"))
        assert not [r for r in app.call_log.records() if r.operation == "DeleteImageSet"]
        dialog.query_one("#typed", Input).value = world.ct
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is detail
        banner = detail.query_one(LockBanner)
        await until(pilot, lambda: not banner.active)
        assert "DELETED" in widget_text(banner)
        assert any("deleted" in message for message in notifications(app))
        await pilot.press("escape")
        assert world.ct not in {s.id for s in rows(app)}
        remaining = mi.search_image_sets(datastoreId=world.datastore_id, searchCriteria={})["imageSetsMetadataSummaries"]
        assert world.ct not in {s["imageSetId"] for s in remaining}

    drive(app, scenario)


def test_copy_to_a_new_image_set_then_revert_a_version(world: World, make_app: AppFactory, mi: Any, endpoint: LocalEndpoint) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        detail = await open_ct(pilot, world)
        banner = detail.query_one(LockBanner)
        await pilot.press("K")
        await settle(pilot)
        dialog = app.screen
        assert app.focused is dialog.query_one("#cancel")
        dialog.query_one("#target", Select).value = "existing"
        dialog.query_one("#destination", Input).value = world.image_sets["ct2"]
        await pilot.pause()
        assert '"imageSetId": "' + world.image_sets["ct2"] in widget_text(dialog.query_one("#preview"))
        assert endpoint.runtime is not None
        endpoint.runtime.config.imageset_lock_seconds = 4.0
        dialog.query_one("#send").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert banner.active
        await pilot.press("D")
        assert app.screen is detail and any("LOCKED" in m for m in notifications(app))
        endpoint.runtime.config.imageset_lock_seconds = 0.4
        await until(pilot, lambda: not banner.active)
        failed = widget_text(banner)
        assert "✗ COPY_FAILED · version 2" in failed and "Series of SourceImageSet and DestinationImageSet don't match" in failed
        assert any("don't match" in m for m in notifications(app))
        await pilot.press("K")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        await until(pilot, lambda: not banner.active and banner.last_state is not None and banner.last_state.workflow_status == "COPIED")
        copies = [r for r in app.call_log.records() if r.operation == "CopyImageSet"]
        assert len(copies) == 2 and all(r.ok for r in copies)
        await until(pilot, lambda: detail.latest is not None and not detail.latest.locked and not banner.active)
        detail.send_update("update", set_attribute(AttributeRef("Study", "StudyDescription"), "Relabelled"), detail.latest)
        await until(pilot, lambda: not banner.active and len(detail.query_one(ResourceTable).rows_all) == 2)
        table = detail.query_one(ResourceTable)
        table.move_cursor(row=[row.key for row in table.visible_rows].index("1"))
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("tab", "enter")
        await until(pilot, lambda: len(table.rows_all) == 3 and not banner.active)
        metadata = gzip.decompress(mi.get_image_set_metadata(datastoreId=world.datastore_id, imageSetId=world.ct)["imageSetMetadataBlob"].read())
        assert json.loads(metadata)["Study"]["DICOM"]["StudyDescription"] == PATIENT_A.study_description

    drive(app, scenario)


def test_read_only_hides_and_refuses_every_image_set_write(world: World, make_app: AppFactory) -> None:
    app = make_app("--read-only")

    async def scenario(pilot: Pilot[Any]) -> None:
        detail = await open_ct(pilot, world)
        await pilot.press("m")
        await settle(pilot)
        view = app.screen
        before = len(app.call_log.records())
        for screen in (view, detail):
            if app.screen is not screen:
                await pilot.press("escape")
                await settle(pilot)
            mutating = [a for a in REGISTRY.in_scopes(screen.scopes()) if a.mutates]
            assert {a.scope for a in mutating} >= {screen.SCOPE}
            footer = {active.binding.action for active in screen.active_bindings.values()}
            for action in mutating:
                assert screen.check_action(action.method, ()) is False
                assert action.method not in footer
                await pilot.press(action.keys.split(",")[0])
                await settle(pilot)
                assert app.screen is screen, f"{action.id} opened something"
                assert notifications(app)[-1] == f"Refused: {action.description} changes AWS; the console is read-only."
                getattr(screen, f"action_{action.method}")()
                await settle(pilot)
                assert app.screen is screen
        writes = {"UpdateImageSetMetadata", "CopyImageSet", "DeleteImageSet", "TagResource", "UntagResource"}
        assert not [r for r in app.call_log.records()[before:] if r.operation in writes]
        assert len([m for m in notifications(app) if m.startswith("Refused")]) >= 6
        assert widget_text(detail.query_one("#versions-title")).strip() == "Versions (Enter shows one, d diffs)"

    drive(app, scenario)


def test_saved_search_by_name(world: World, make_app: AppFactory, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('refresh = 30\n\n[profiles.prod]\nread_only = true\n')
    monkeypatch.setenv("AHI_CONFIG", str(config_file))
    app = make_app(config=load_config(config_file))

    async def scenario(pilot: Pilot[Any]) -> None:
        await search_patient(pilot, PATIENT_B.patient_id)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"ward b", "enter")
        await settle(pilot)
        saved = load_config(config_file)
        assert saved.refresh == 30 and saved.profile("prod").read_only
        assert saved.searches["ward b"]["patient_id"] == PATIENT_B.patient_id
        assert app.config.searches == saved.searches
        await pilot.press("colon", *"sets @ward b", "enter")
        await settle(pilot)
        assert [s.dicom["DICOMPatientId"] for s in rows(app)] == [PATIENT_B.patient_id]
        await pilot.press("X", "escape", "o")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert [s.dicom["DICOMPatientId"] for s in rows(app)] == [PATIENT_B.patient_id]

    drive(app, scenario)


def snapshot_app(make_app: AppFactory) -> Any:
    app = make_app()
    app.formatter.fixed_time = "2026-01-15 09:30:00"
    return app


def test_snapshot_of_search_results(world: World, make_app: AppFactory, snap_compare: Any) -> None:
    async def searched(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("colon", *f"sets {world.datastore_id}", "enter")
        await settle(pilot)

    assert snap_compare(snapshot_app(make_app), terminal_size=(120, 40), run_before=searched)


def test_snapshot_of_the_metadata_tree(world: World, make_app: AppFactory, snap_compare: Any) -> None:
    async def opened(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_ct(pilot, world)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("slash", *"BitsStored", "enter")
        await settle(pilot)
        await pilot.pause()

    assert snap_compare(snapshot_app(make_app), terminal_size=(120, 40), run_before=opened)


def test_snapshot_of_a_phantom_preview(world: World, make_app: AppFactory, snap_compare: Any) -> None:
    async def previewed(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_ct(pilot, world)
        await pilot.press("v")
        await settle(pilot)
        preview = pilot.app.screen.query_one(FramePreview)
        await until(pilot, lambda: preview.decoded is not None)
        await pilot.press("right", "a")
        await until(pilot, lambda: preview.decoded.key == preview.request.key and preview.window is not None and preview.window.label != "DICOM")

    assert snap_compare(snapshot_app(make_app), terminal_size=(120, 40), run_before=previewed)


def test_saving_a_search_rewrites_only_its_table() -> None:
    text = '# mine\nrefresh = 30\n\n[searches."ward b"]\npatient_id = "OLD"\n\n[profiles.prod]\nread_only = true\n'
    written = with_search(text, "ward b", {"patient_id": "NEW", "primary_only": True})
    parsed = parse_config(written, Path("config.toml"))
    assert parsed.searches == {"ward b": {"patient_id": "NEW", "primary_only": True}}
    assert parsed.profile("prod").read_only and parsed.refresh == 30
    assert written.startswith("# mine") and "OLD" not in written
    assert parse_config(with_search("", "first", {"patient_id": 'a "quoted" id'}), Path("c.toml")).searches == {"first": {"patient_id": 'a "quoted" id'}}
    assert name_problem("ward b") is None and name_problem('bad"name') is not None


def test_frames_are_grouped_by_series_in_display_order() -> None:
    def instance(number: str, frame_id: str) -> dict[str, Any]:
        return {"DICOM": {"InstanceNumber": number}, "ImageFrames": [{"ID": frame_id}]}

    document = {
        "ImageSetID": "i" * 32,
        "Patient": {"DICOM": {"PatientName": "Doe^Jane"}},
        "Study": {
            "Series": {
                "1.3": {"DICOM": {"SeriesNumber": "3"}, "Instances": {"1.3.1": instance("2", "b"), "1.3.2": instance("1", "a")}},
                "1.2": {"DICOM": {"SeriesNumber": "2"}, "Instances": {"1.2.1": instance("1", "c")}},
            }
        },
    }
    grouped = frames_by_series(document, "1")
    assert [s.uid for s in grouped] == ["1.2", "1.3"]
    assert [r.key.frame_id for r in grouped[1].frames] == ["a", "b"]
    assert grouped[0].label.startswith("Series 2")


def test_a_saved_search_with_an_unknown_field_names_file_line_and_key() -> None:
    text = 'refresh = 30\n\n[searches."ward b"]\npatient_id = "P1"\npatient_name = "Doe"\n'
    with pytest.raises(ConfigError) as raised:
        parse_config(text, Path("config.toml"))
    assert raised.value.line == 5 and raised.value.key == "searches.ward b.patient_name"
    with pytest.raises(ConfigError) as wrong_type:
        parse_config('[searches.x]\nprimary_only = "yes"\n', Path("config.toml"))
    assert "true or false" in wrong_type.value.problem
