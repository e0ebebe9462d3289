"""In a real terminal (tmux), at 80x24 and at 120x40: header, tables, footer, help, navigation, call log, JSON view.

Each journey starts `ahi --local`, makes its data on the console's own endpoint with boto3 (the URL
read off the header), then types what a person types and reads capture-pane. The 120x40 run uses
TERM=screen-256color without COLORTERM, as a plain tmux or screen session has it.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from journey_clients import journey_clients
from tmux_harness import ENDPOINT, Tmux

from ahi.tui.actions import REGISTRY, key_name
from ahi.tui.navigation import load_screens

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

TERMINALS = [
    pytest.param(((80, 24), "xterm-256color", "truecolor"), id="80x24"),
    pytest.param(((120, 40), "screen-256color", None), id="120x40-screen-256color"),
]
LONG_NAME = "radiology-archive-of-the-northern-regional-hospital-group-2019-2024"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
#: A table row of the call log: time, duration, outcome.
CALL_ROW = re.compile(r"^ \d\d:\d\d:\d\d +\d+ +\S", re.MULTILINE)
#: A background colour in a styled capture: 256 colours (48;5;N) or, with COLORTERM=truecolor, 48;2;R;G;B.
BACKGROUND = re.compile(r"\x1b\[(?:[0-9;]*;)?48;(5;\d+|2;\d+;\d+;\d+)m")


@pytest.fixture(params=TERMINALS)
def tmux(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tmux]:
    size, term, colorterm = request.param
    session = Tmux(tmp_path, size=size, term=term, colorterm=colorterm)
    yield session
    session.kill()


def clients(endpoint_url: str) -> tuple[Any, Any, Any]:
    """boto3 clients for medical-imaging, KMS and S3 on the console's endpoint."""
    mi, kms, s3 = journey_clients(endpoint_url, "medical-imaging", "kms", "s3")
    return mi, kms, s3


def wait_active(mi: Any, datastore_id: str) -> None:
    deadline = time.monotonic() + 20
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "the data store never became ACTIVE"
        time.sleep(0.1)


def footer_entries() -> set[str]:
    """Every `key description` the footer may show."""
    load_screens()
    return {f"{key_name(key)} {action.description}" for action in REGISTRY for key in action.keys.split(",")}


def width_of(tmux: Tmux) -> int:
    return tmux.size[0]


def lines(screen: str) -> list[str]:
    return screen.splitlines()


def on_data_stores(screen: str) -> bool:
    """The breadcrumb says the data store list is on top."""
    return lines(screen)[1].strip() == "Data stores"


def test_header_keeps_profile_region_and_endpoint_beside_badges(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0", "--read-only")
    url = tmux.endpoint_url()
    mi, kms, _ = clients(url)
    key = kms.create_key(Description="journey")["KeyMetadata"]
    wait_active(mi, mi.create_datastore(datastoreName="keyed", clientToken="keyed", kmsKeyArn=key["Arn"])["datastoreId"])
    kms.disable_key(KeyId=key["KeyId"])

    tmux.keys("r")
    screen = tmux.wait_for(lambda s: "keyed" in s and ("1 key alert" in s or "⚠1 key" in s), "the key alert badge")
    header = lines(screen)[0]
    assert len(header.rstrip()) <= width_of(tmux)
    assert "default" in header and "us-east-1" in header
    match = ENDPOINT.search(header)
    assert match is not None and f"http://{match.group(1)}" == url, f"the endpoint is cut: {header!r}"
    assert "READ-ONLY" in header or " RO " in header


def test_tables_elide_visibly_and_the_footer_shows_whole_keys(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    mi, _, _ = clients(tmux.endpoint_url())
    wait_active(mi, mi.create_datastore(datastoreName=LONG_NAME, clientToken="long")["datastoreId"])

    tmux.keys("r")
    screen = tmux.wait_for(lambda s: LONG_NAME[:30] in s, "the long-named data store")
    row = next(line for line in lines(screen) if LONG_NAME[:30] in line)
    assert LONG_NAME not in screen, "a name wider than its column is shown whole"
    assert re.search(re.escape(LONG_NAME[:40]) + r"\S*…", row), f"the cut name does not end in …: {row!r}"

    footer = lines(screen)[-1].strip()
    allowed = footer_entries() | {"? Help", "? more"}
    entries = [entry.strip() for entry in footer.split("  ") if entry.strip()]
    assert entries[-1] in ("? Help", "? more") and all(entry in allowed for entry in entries), f"footer cut: {footer!r}"
    assert entries[0] == "n Create data store", "the screen's own keys come first"
    assert "r Refresh" not in entries, "the shared keys come after the screen's own"

    for _ in range(8):
        if "created" in tmux.screen():
            break
        tmux.keys("Right")
        tmux.wait_for(lambda s: True, "the table scrolled")
    screen = tmux.wait_for(lambda s: "created" in s, "the created column, scrolled to")
    row = next(line for line in lines(screen) if "ACTIVE" in line)
    assert TIMESTAMP.search(row), f"the time is cut: {row!r}"

    tmux.keys("?")
    screen = tmux.wait_for(lambda s: "Keys — Data stores" in s, "help")
    assert "Refresh" in screen, "help shows the keys the footer had no room for"


def test_help_lists_the_keys_of_this_screen_as_people_write_them(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    mi, _, _ = clients(tmux.endpoint_url())
    wait_active(mi, mi.create_datastore(datastoreName="helped", clientToken="helped")["datastoreId"])
    tmux.keys("r")
    tmux.wait_for(lambda s: "helped" in s, "the data store")

    tmux.keys("?")
    screen = tmux.wait_for(lambda s: "Keys — Data stores" in s, "help on the data store list")
    shown = lines(screen)
    assert all(len(line.rstrip()) <= width_of(tmux) for line in shown)
    top = next(line for line in shown if "╭" in line)
    assert "╮" in top, "the help box is wider than the terminal"
    first = shown[next(i for i, line in enumerate(shown) if "action" in line and "key" in line) + 1]
    assert "Enter" in first and "Open details" in first, f"the screen's own keys come first: {first!r}"
    assert "PgDn" in screen or "Next row" in screen
    for raw in ("pagedown", "question_mark", "right_square_bracket", "escape", "ctrl+q"):
        assert raw not in screen

    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Keys — " not in s, "help closed")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "Data stores › helped" in s and "Properties" in s, "the data store's detail")
    tmux.keys("?")
    screen = tmux.wait_for(lambda s: "Keys — helped" in s, "help on the detail")
    assert "Next row" not in screen and "Mark row" not in screen, "table keys where there is no table"
    assert "Back" in screen and "Esc" in screen


def test_navigation_moves_the_cursor_as_k9s_does(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    mi, _, _ = clients(tmux.endpoint_url())
    count = 10  # the data store quota of an account and region
    for index in range(1, count + 1):
        mi.create_datastore(datastoreName=f"nav-{index:02d}", clientToken=f"nav-{index}")
    tmux.keys("r")
    tmux.wait_for(lambda s: f"{count}/{count} rows" in s, "every data store")
    tmux.keys("s")
    tmux.wait_for(lambda s: "name ▲" in s, "sorted by name")

    def selected_after(*keys: str) -> str:
        tmux.keys(*keys)
        tmux.keys("y")
        screen = tmux.wait_for(lambda s: "last API response" in s and '"datastoreName"' in s, "the raw JSON")
        name = re.search(r'"datastoreName": "([^"]+)"', screen)
        assert name is not None
        tmux.keys("Escape")
        tmux.wait_for(lambda s: "last API response" not in s, "the raw JSON closed")
        return name.group(1)

    assert selected_after("G") == f"nav-{count}"
    assert selected_after("g") == "nav-01"
    assert selected_after("End") == f"nav-{count}"
    assert re.search(r"^ +name ▲", tmux.screen(), re.MULTILINE), "End scrolled the table sideways"
    assert selected_after("Home") == "nav-01"
    assert selected_after("j") == "nav-02"
    assert selected_after("k") == "nav-01"

    tmux.keys("Right")
    tmux.wait_for(lambda s: re.search(r"^ id +status", s, re.MULTILINE) is not None, "one column scrolled: id first")
    tmux.keys("Left")
    tmux.wait_for(lambda s: re.search(r"^ +name ▲", s, re.MULTILINE) is not None, "back to the name column")

    tmux.keys("i")
    tmux.wait_for(lambda s: "Data stores › Import jobs" in s, "'i' opens the data store's import jobs")


def test_call_log_json_view_checkbox_and_breadcrumb(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    mi, _, s3 = clients(tmux.endpoint_url())
    datastore_id = mi.create_datastore(datastoreName="crumbs", clientToken="crumbs")["datastoreId"]
    wait_active(mi, datastore_id)
    s3.create_bucket(Bucket="crumbs-in")
    s3.create_bucket(Bucket="crumbs-out")
    s3.put_object(Bucket="crumbs-in", Key="in/nothing.txt", Body=b"not DICOM")
    mi.start_dicom_import_job(
        jobName="crumb-job", datastoreId=datastore_id, dataAccessRoleArn="arn:aws:iam::123456789012:role/Import",
        inputS3Uri="s3://crumbs-in/in/", outputS3Uri="s3://crumbs-out/out/",
    )  # fmt: skip
    for _ in range(3):
        tmux.keys("r")
        tmux.wait_for(lambda s: "crumbs" in s and "refreshing" not in s, "a refresh")

    tmux.keys("!")
    screen = tmux.wait_for(lambda s: "Data stores › Call log" in s and CALL_ROW.search(s) is not None, "the call log")
    styled = [line for line in tmux.styled_screen().splitlines() if CALL_ROW.search(re.sub(r"\x1b\[[0-9;]*m", "", line))]
    assert len(styled) >= 3
    backgrounds = [BACKGROUND.findall(line)[:1] for line in styled]
    cursor = [index for index, colour in enumerate(backgrounds) if backgrounds.count(colour) == 1]
    assert cursor == [len(styled) - 1], f"the cursor is not on the newest call: {backgrounds}"
    tmux.keys("Escape")
    tmux.wait_for(on_data_stores, "back on the data stores")

    tmux.keys("y")
    screen = tmux.wait_for(lambda s: '"datastoreArn"' in s, "the raw JSON")
    tail = datastore_id[-12:]
    assert all('"datastoreArn"' in line or '"datastoreId"' in line or "last API response" in line for line in lines(screen) if tail in line)
    arn_line = next(line for line in lines(screen) if '"datastoreArn"' in line)
    assert '"arn:aws:medical-imaging:us-east-1:' in arn_line, "the ARN is broken inside the JSON"
    assert not any(line.strip("│ ").startswith(("datastore/", tail)) for line in lines(screen)), "the ARN wraps"
    whole = f"datastore/{datastore_id}"
    for _ in range(40):
        if whole in tmux.screen():
            break
        tmux.keys("Right")
        tmux.wait_for(lambda s: True, "the JSON scrolled")
    tmux.wait_for(lambda s: whole in s, "the ARN's end, scrolled to sideways")
    tmux.keys("Escape")
    # Scrolled sideways, the view may show no key name at all: it is gone when its box is.
    tmux.wait_for(lambda s: "╭" not in s and on_data_stores(s), "the raw JSON closed")

    tmux.keys("i")
    tmux.wait_for(lambda s: "Data stores › Import jobs · crumbs" in s, "the breadcrumb following the data store's name")
    tmux.keys("Escape")
    tmux.wait_for(on_data_stores, "back on the data stores")

    tmux.command("sets")
    screen = tmux.wait_for(lambda s: "Primary only ▐ ▌" in s, "the search form with its checkbox off")
    row = next(index for index, line in enumerate(lines(screen)) if "Primary only ▐ ▌" in line)
    tmux.click(lines(screen)[row].index("Primary only ▐ ▌") + len("Primary only ▐"), row)
    tmux.wait_for(lambda s: "Primary only ▐X▌" in s, "the checkbox on, drawn differently")
