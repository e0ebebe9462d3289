"""SVG snapshots of the console at 120x40 and 80x24: stable IDs, frozen clocks, masked port."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import AppFactory, settle
from textual.pilot import Pilot

from ahi.emulator.errors import ServiceError

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


class AccessDeniedException(ServiceError):
    """The service's answer to a caller without the permission (the endpoint itself never denies)."""

    code = "AccessDeniedException"


async def loaded(pilot: Pilot[Any]) -> None:
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_datastores(size: tuple[int, int], seeded: dict[str, str], make_app: AppFactory, snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES)
def test_help(size: tuple[int, int], seeded: dict[str, str], make_app: AppFactory, snap_compare: Any) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app(), terminal_size=size, run_before=open_help)


@pytest.mark.parametrize("size", SIZES)
def test_delete_confirmation(size: tuple[int, int], seeded: dict[str, str], make_app: AppFactory, snap_compare: Any) -> None:
    async def ask_delete(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("s", "D")

    assert snap_compare(make_app(), terminal_size=size, run_before=ask_delete)


@pytest.mark.parametrize("size", SIZES)
def test_error_panel(
    size: tuple[int, int], seeded: dict[str, str], make_app: AppFactory, replace_handler: Any, snap_compare: Any
) -> None:
    def denied(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        raise AccessDeniedException("User is not authorized to perform: medical-imaging:ListDatastores")

    replace_handler("ListDatastores", denied)
    assert snap_compare(make_app(), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES)
def test_read_only(size: tuple[int, int], seeded: dict[str, str], make_app: AppFactory, snap_compare: Any) -> None:
    assert snap_compare(make_app("--read-only"), terminal_size=size, run_before=loaded)
