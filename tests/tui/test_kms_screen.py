"""`:kms` against the local endpoint: disabled, pending-deletion and undescribable keys, flagged and explained."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import AppFactory, drive, settle, widget_text
from kms_faults import inject_kms_faults
from textual.pilot import Pilot

from ahi.emulator.server import LocalEndpoint
from ahi.screens.datastore_detail import DatastoreDetailScreen
from ahi.screens.kms_status import KmsStatusScreen
from ahi.tui.app import AhiApp
from ahi.tui.dialogs.json_view import JsonDialog
from ahi.tui.widgets.resource_table import ResourceTable

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


@pytest.fixture
def key_world(seeded: dict[str, str], mi: Any, kms: Any, endpoint: LocalEndpoint) -> dict[str, dict[str, Any]]:
    """The seeded stores plus: an ACTIVE store whose key was disabled, a CREATE_FAILED one, one not describable."""
    keys: dict[str, dict[str, Any]] = {}
    for alias in ("ortho", "pathology"):
        keys[alias] = kms.create_key(Description=alias)["KeyMetadata"]
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=keys[alias]["KeyId"])
    mi.create_datastore(datastoreName="ortho-imaging", clientToken="ortho", kmsKeyArn=keys["ortho"]["Arn"])
    mi.create_datastore(datastoreName="pathology-slides", clientToken="patho", kmsKeyArn=keys["pathology"]["Arn"])
    kms.disable_key(KeyId=keys["ortho"]["KeyId"])
    mi.create_datastore(datastoreName="radiology-new", clientToken="radio", kmsKeyArn=keys["ortho"]["Arn"])
    inject_kms_faults(endpoint).fail("DescribeKey", keys["pathology"]["KeyId"], "AccessDeniedException")
    keys["neuro"] = kms.describe_key(KeyId="alias/neuro")["KeyMetadata"]
    return keys


def stable(app: AhiApp, keys: dict[str, dict[str, Any]]) -> AhiApp:
    """Mask moto's random key IDs so snapshots do not change between runs."""
    for number, meta in enumerate(sorted(keys.values(), key=lambda m: m["Description"]), start=1):
        app.formatter.masks[meta["KeyId"]] = f"{number:08d}-0000-4000-8000-000000000000"
    return app


def cells(app: AhiApp) -> dict[str, dict[str, str]]:
    return {row.resource.datastore.name: row.plain() for row in app.screen.query_one(ResourceTable).visible_rows}


def test_kms_flags_unreadable_stores_counts_them_and_explains(key_world: dict[str, Any], make_app: AppFactory, kms: Any) -> None:
    app = make_app()
    ortho_arn = key_world["ortho"]["Arn"]

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *"kms", "enter")
        await settle(pilot)
        assert isinstance(app.screen, KmsStatusScreen)
        table = cells(app)
        assert list(table)[:3] == ["ortho-imaging", "radiology-new", "pathology-slides"]
        assert table["ortho-imaging"]["health"] == "✖ unreadable" and table["ortho-imaging"]["state"] == "Disabled"
        assert table["ortho-imaging"]["status"] == "ACTIVE" and table["radiology-new"]["status"] == "CREATE_FAILED"
        assert table["pathology-slides"]["health"] == "▲ check" and table["pathology-slides"]["describe"] == "AccessDenied"
        assert table["neuro-research"]["key"] == "alias/neuro" and table["neuro-research"]["manager"] == "CUSTOMER"
        assert table["neuro-research"]["rotation"] == "off" and table["neuro-research"]["health"] == "✔ ok"
        assert table["cardiology-archive"]["key"] == "AWS owned" and table["cardiology-archive"]["describe"] == "n/a"
        assert "2 key alerts" in widget_text(app.screen.query_one("ContextHeader"), width=200)
        assert "2 unreadable · 1 to check" in widget_text(app.screen.query_one("#status-line"))

        explanation = widget_text(app.screen.query_one("#explain"), width=200)
        assert "ortho-imaging — data unreadable: key is Disabled" in explanation
        assert f"aws kms enable-key --key-id {ortho_arn}" in explanation
        await pilot.press("f")
        assert app.clipboard == f"aws kms enable-key --key-id {ortho_arn}"
        await pilot.press("y")
        assert isinstance(app.screen, JsonDialog) and '"KeyState": "Disabled"' in app.screen.document_text
        await pilot.press("escape", "down")
        explanation = widget_text(app.screen.query_one("#explain"), width=200)
        assert "radiology-new — creation failed: key is Disabled" in explanation and "delete this data store" in explanation
        await pilot.press("down")
        assert "may not describe this key" in widget_text(app.screen.query_one("#explain"), width=200)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DatastoreDetailScreen) and app.screen.datastore.name == "pathology-slides"
        await pilot.press("escape")

        kms.enable_key(KeyId=key_world["ortho"]["KeyId"])
        await pilot.press("r")
        await settle(pilot)
        assert cells(app)["ortho-imaging"]["health"] == "✔ ok" and cells(app)["radiology-new"]["health"] == "▲ check"
        assert "key alert" not in widget_text(app.screen.query_one("ContextHeader"), width=200)

    drive(app, scenario)


def test_pending_deletion_shows_the_date_and_how_to_cancel(key_world: dict[str, Any], make_app: AppFactory, kms: Any) -> None:
    neuro = key_world["neuro"]["KeyId"]
    kms.schedule_key_deletion(KeyId=neuro, PendingWindowInDays=7)
    deletion = kms.describe_key(KeyId=neuro)["KeyMetadata"]["DeletionDate"]
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *"keys neuro", "enter")
        await settle(pilot)
        row = cells(app)["neuro-research"]
        assert row["state"] == f"PendingDeletion {deletion:%Y-%m-%d}" and row["health"] == "✖ unreadable"
        assert list(cells(app)) == ["neuro-research"]
        explanation = widget_text(app.screen.query_one("#explain"), width=200)
        assert f"scheduled for deletion on {deletion:%Y-%m-%d %H:%M} UTC" in explanation
        assert "aws kms cancel-key-deletion --key-id" in explanation

    drive(app, scenario)


@pytest.mark.parametrize("size", SIZES)
def test_kms_snapshot(size: tuple[int, int], key_world: dict[str, Any], make_app: AppFactory, snap_compare: Any) -> None:
    async def open_kms(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("colon", *"kms", "enter")
        await settle(pilot)

    assert snap_compare(stable(make_app(), key_world), terminal_size=size, run_before=open_kms)


def test_read_only_kms_snapshot(key_world: dict[str, Any], make_app: AppFactory, snap_compare: Any) -> None:
    async def open_kms(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("colon", *"kms", "enter")
        await settle(pilot)

    assert snap_compare(stable(make_app("--read-only"), key_world), terminal_size=(120, 40), run_before=open_kms)
