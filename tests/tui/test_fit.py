"""Fit and finish in process: the header's layouts, the footer's choice, key names, cell elision, the call log's follow."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import AppFactory, drive, settle
from rich.text import Text
from textual.pilot import Pilot

from ahi.tui.actions import key_label, key_name
from ahi.tui.call_log import CallLogScreen
from ahi.tui.dialogs.help import HelpDialog
from ahi.tui.widgets.context_header import HeaderState, middle_cut, render_header
from ahi.tui.widgets.key_footer import FooterEntry, KeyFooter, fit_entries
from ahi.tui.widgets.resource_table import ResourceTable, elide

LOCAL = HeaderState(profile="default", account="123456789012", region="us-east-1", endpoint="http://127.0.0.1:45678", local=True)
BUSY = HeaderState(
    profile="imaging-production-admin",
    account="123456789012",
    region="eu-central-1",
    endpoint="https://medical-imaging.eu-central-1.amazonaws.com",
    read_only=True,
    production=True,
    alerts=3,
)


@pytest.mark.parametrize("width", [118, 100, 78, 60])
def test_the_header_keeps_profile_region_and_endpoint_within_the_width(width: int) -> None:
    for state in (LOCAL, BUSY):
        line = render_header(state, width).plain
        assert len(line) <= width, line
        assert state.region is not None and state.region in line
        assert state.profile[:7] in line
        assert "RO" in line if state.read_only else "RO" not in line
    local = render_header(LOCAL, width).plain
    assert "127.0.0.1:45678" in local, "the local endpoint's host and port always fit"


def test_the_header_spells_out_what_fits_and_sheds_labels_before_the_connection() -> None:
    assert render_header(LOCAL, 118).plain == (
        "ahi │ profile default │ account 123456789012 │ region us-east-1 │ endpoint local http://127.0.0.1:45678"
    )
    assert render_header(LOCAL, 78).plain == "ahi │ default │ 123456789012 │ us-east-1 │ local http://127.0.0.1:45678"
    narrow = render_header(BUSY, 78).plain
    assert narrow.startswith("ahi │ RO │ PROD │ ⚠3 key │ ") and "eu-central-1" in narrow and "…" in narrow
    assert middle_cut("medical-imaging.eu-central-1.amazonaws.com", 20) == "medical-im…onaws.com"


def test_the_footer_takes_whole_entries_in_order_and_says_when_some_are_left_out() -> None:
    entries = [FooterEntry("n", "n", "Create data store"), FooterEntry("D", "D", "Delete data store"), FooterEntry("r", "r", "Refresh")]
    chosen, left_out = fit_entries(entries, 60)
    assert [e.label for e in chosen] == ["n", "D", "r"] and not left_out
    chosen, left_out = fit_entries(entries, 45)
    assert [e.label for e in chosen] == ["n", "r"] and left_out, "a key that does not fit is skipped whole"


def test_keys_are_written_as_people_write_them() -> None:
    assert key_label("right_square_bracket,pagedown") == "], PgDn"
    assert key_label("greater_than_sign,full_stop") == ">, ."
    assert key_label("ctrl+q,ctrl+c") == "^q, ^c"
    assert key_name("question_mark") == "?" and key_name("escape") == "Esc" and key_name("home") == "Home"
    assert key_label("x", {"some.action": "ctrl+d"}, "some.action") == "^d"


def test_a_cell_wider_than_its_column_ends_in_an_ellipsis() -> None:
    assert elide("2026-12-03 07:37:12", 19) == "2026-12-03 07:37:12"
    cut = elide("radiology-archive-of-the-north", 12)
    assert isinstance(cut, Text) and cut.plain == "radiology-a…"
    styled = elide(Text("FAILED because of reasons", style="red"), 8)
    assert isinstance(styled, Text) and styled.plain == "FAILED …" and styled.style == "red"


def test_the_call_log_opens_on_the_newest_call_and_follows_while_on_the_last_row(
    seeded: dict[str, str], make_app: AppFactory
) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        log = app.screen
        assert isinstance(log, CallLogScreen)
        table = log.query_one(ResourceTable)
        assert table.row_count >= 2 and table.cursor_row == table.row_count - 1
        before = table.row_count
        app.services.datastores.list()
        await settle(pilot)
        assert table.row_count == before + 1 and table.cursor_row == table.row_count - 1, "the cursor follows"
        await pilot.press("g")
        app.services.datastores.list()
        await settle(pilot)
        assert table.row_count == before + 2 and table.cursor_row == 0, "off the last row, the cursor stays"
        await pilot.press("G")
        app.services.datastores.list()
        await settle(pilot)
        assert table.cursor_row == table.row_count - 1, "G follows again"

    drive(app, scenario)


def test_a_click_on_a_footer_entry_presses_its_key(seeded: dict[str, str], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        footer = app.screen.query_one(KeyFooter)
        line = footer.render().plain
        assert line.endswith("? more"), line
        await pilot.click(KeyFooter, offset=(footer.styles.padding.left + line.index("? more") + 2, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpDialog)

    drive(app, scenario, size=(80, 24))
