"""The import jobs screens through Pilot: listing, status views, triage of a failed job, re-import, read-only.

The world is real: a data store on the local endpoint, a clean import, an import with broken files and a
job whose input bucket does not exist; IDs and the endpoint clock are fixed so snapshots stay stable.
"""

from __future__ import annotations

import csv
import itertools
import threading
from pathlib import Path
from typing import Any

import pytest
from console_harness import FROZEN, AppFactory, click, drive, notifications, settle, until, widget_text
from textual.pilot import Pilot
from textual.widgets import Input, Static
from triage_helpers import FLAKY_MARK, INPUT_BUCKET, OUTPUT_BUCKET, active_datastore, make_flaky_files_fail, run_import

from ahi.emulator.demo.phantoms import broken_files, ct_series
from ahi.emulator.server import LocalEndpoint
from ahi.screens.job_detail import JobDetailScreen
from ahi.screens.jobs import JobsScreen
from ahi.services.failure_reasons import FailureGroup
from ahi.services.job_output import FailureLine
from ahi.tui.dialogs.confirm import ConfirmDialog
from ahi.tui.format import Formatter
from ahi.tui.widgets.job_outcome_tree import OutcomeTree
from ahi.tui.widgets.resource_table import ResourceTable

BROKEN = broken_files()
SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, endpoint: LocalEndpoint, mi: Any, s3: Any) -> dict[str, Any]:
    """One store, three ended jobs (clean, with failures, FAILED); sequential IDs, frozen endpoint clock."""
    counter = itertools.count(1)
    for module in ("ahi.emulator.handlers.datastores", "ahi.emulator.handlers.jobs", "ahi.emulator.imports.pipeline"):
        monkeypatch.setattr(f"{module}.new_id", lambda: f"{next(counter):032x}")
    assert endpoint.runtime is not None
    endpoint.runtime.clock = lambda: FROZEN.timestamp()
    for bucket in (INPUT_BUCKET, OUTPUT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    store = active_datastore(mi, "radiology")
    clean = run_import(mi, s3, ct_series(2, 32), datastore_id=store, job_name="clean-ct", input_uri=f"s3://{INPUT_BUCKET}/clean/")
    failing = run_import(mi, s3, ct_series(2, 32, series_key="n") + BROKEN, datastore_id=store, job_name="nightly-ct")
    failed = run_import(mi, s3, [], datastore_id=store, job_name="wrong-bucket", input_uri="s3://no-such-input/x/")
    return {"store": store, "clean": clean, "failing": failing, "failed": failed}


def jobs_table(app: Any) -> ResourceTable:
    return app.screen.query_one(ResourceTable)


def shown(app: Any) -> dict[str, dict[str, str]]:
    """job name -> plain cells of the visible rows."""
    return {row.plain()["name"]: row.plain() for row in jobs_table(app).visible_rows}


async def open_jobs(pilot: Pilot[Any], command: str = "jobs") -> None:
    await pilot.press("colon", *command, "enter")
    await settle(pilot)


async def enter_on(pilot: Pilot[Any], name: str) -> None:
    """Move the cursor to the job called `name` (as a person would, with the arrow keys) and press Enter."""
    table = jobs_table(pilot.app)
    await pilot.press(*["up"] * len(table.visible_rows))
    for _ in range(len(table.visible_rows)):
        if table.current_row is not None and table.current_row.plain()["name"] == name:
            break
        await pilot.press("down")
    assert table.current_row is not None and table.current_row.plain()["name"] == name, [r.plain()["name"] for r in table.visible_rows]
    await pilot.press("enter")


async def open_failing_job(pilot: Pilot[Any]) -> JobDetailScreen:
    await open_jobs(pilot)
    await pilot.press("f")
    await enter_on(pilot, "nightly-ct")
    await settle(pilot)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, JobDetailScreen) and screen.job.name == "nightly-ct"
    return screen


def test_every_job_is_listed_and_failures_are_never_clean(world: dict[str, Any], make_app: AppFactory) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_jobs(pilot)
        rows = shown(app)
        assert set(rows) == {"clean-ct", "nightly-ct", "wrong-bucket"}
        assert (rows["clean-ct"]["status"], rows["clean-ct"]["failed"]) == ("COMPLETED", "0")
        assert rows["nightly-ct"]["status"] == "COMPLETED ⚠"
        assert (rows["nightly-ct"]["scanned"], rows["nightly-ct"]["imported"], rows["nightly-ct"]["failed"]) == (
            str(2 + len(BROKEN)), "2", str(len(BROKEN)),
        )  # fmt: skip
        assert rows["wrong-bucket"]["status"] == "FAILED" and rows["wrong-bucket"]["datastore"] == "radiology"
        await pilot.press("f")
        assert set(shown(app)) == {"nightly-ct", "wrong-bucket"}
        await pilot.press("i")
        assert shown(app) == {}
        await pilot.press("a", "slash", *"clean", "enter")
        assert set(shown(app)) == {"clean-ct"}
        assert "view: all" in widget_text(app.screen.query_one("#status-line"))

    drive(app, scenario)


def test_triage_from_the_data_store_list_to_the_reimport_confirmation(
    world: dict[str, Any], make_app: AppFactory, mi: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_flaky_files_fail(monkeypatch)
    files = [*ct_series(1, 32, series_key="f"), (f"{FLAKY_MARK}-1.dcm", ct_series(1, 32, series_key="g")[0][1])]
    run_import(mi, s3, files, datastore_id=world["store"], job_name="flaky-ct", input_uri=f"s3://{INPUT_BUCKET}/flaky/")
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen) and app.screen.datastore_id == world["store"]
        await pilot.press("f")
        await enter_on(pilot, "nightly-ct")
        await settle(pilot)
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, JobDetailScreen)
        tree = detail.query_one(OutcomeTree)
        groups = [node.data for node in tree.failures.children]
        assert len(groups) == len(BROKEN) and all(isinstance(g, FailureGroup) for g in groups)
        assert any("TransferSyntaxUID does not exist" in g.key.label for g in groups)
        assert isinstance(tree.cursor_node.data, FailureGroup)
        marks = {str(node.label).split(maxsplit=1)[1][:8] for node in tree.failures.children}
        assert marks == {"no retry"}, "every broken file was rejected for its content: the list says a retry cannot help"
        await pilot.press("enter")
        await settle(pilot)
        [leaf] = tree.cursor_node.children
        assert isinstance(leaf.data, FailureLine)
        size = len(dict(BROKEN)[leaf.data.input_file.rpartition("batch-7/")[2]])
        assert f"{size / 1024:.1f} KiB" in str(leaf.label) or f"{size} B" in str(leaf.label)

        await pilot.press("R")
        await settle(pilot)
        assert app.screen is detail, "a reason whose files were rejected for their content offers no re-import"
        assert "a retry sends the same bytes" in notifications(app)[-1]

        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("a")
        await enter_on(pilot, "flaky-ct")
        await settle(pilot)
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, JobDetailScreen) and detail.job.name == "flaky-ct"
        [flaky] = [node for node in detail.query_one(OutcomeTree).failures.children if isinstance(node.data, FailureGroup)]
        assert str(flaky.label).split(maxsplit=1)[1].startswith("retry ok  InternalServerException"), flaky.label
        await pilot.press("R")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        text = " ".join(" ".join(widget_text(w, width=400) for w in confirm.query(Static)).split())
        assert "reason InternalServerException" in text and "s3://triage-input/flaky-reimport-" in text, text
        before = {j["jobId"] for j in mi.list_dicom_import_jobs(datastoreId=world["store"])["jobSummaries"]}
        await click(pilot, "#confirm")
        await settle(pilot)
        await settle(pilot)
        assert any(m.startswith("Job ") and "started on 1 file(s)" in m for m in notifications(app)), text
        after = {j["jobId"]: j for j in mi.list_dicom_import_jobs(datastoreId=world["store"])["jobSummaries"]}
        [new_id] = set(after) - before
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        await pilot.press("a")
        assert after[new_id]["jobName"] in shown(app)

    drive(app, scenario)


def test_enter_on_a_generated_image_set_opens_it(world: dict[str, Any], make_app: AppFactory) -> None:
    from ahi.screens.image_set_detail import ImageSetDetailScreen

    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        detail = await open_failing_job(pilot)
        tree = detail.query_one(OutcomeTree)
        tree.move_cursor(tree.image_sets)
        await pilot.press("enter", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ImageSetDetailScreen)
        assert app.screen.image_set_id == detail.manifest.manifest.image_sets[0].image_set_id

    drive(app, scenario)


def test_read_only_hides_reimport_and_start(world: dict[str, Any], make_app: AppFactory, mi: Any) -> None:
    app = make_app("--read-only")

    async def scenario(pilot: Pilot[Any]) -> None:
        detail = await open_failing_job(pilot)
        for method in ("reimport", "start_import"):
            assert detail.check_action(method, ()) is False
        detail.action_reimport()
        detail.action_start_import()
        await settle(pilot)
        assert app.screen is detail
        assert sum(m.startswith("Refused") for m in notifications(app)) == 2
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.check_action("start_import", ()) is False
        assert len(mi.list_dicom_import_jobs(datastoreId=world["store"])["jobSummaries"]) == 3

    drive(app, scenario)


def test_export_writes_the_report_and_the_cli_command_is_copied(
    world: dict[str, Any], make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    target = tmp_path / "nightly.csv"

    async def scenario(pilot: Pilot[Any]) -> None:
        detail = await open_failing_job(pilot)
        await pilot.press("e")
        await settle(pilot)
        prompt = app.screen.query_one(Input)
        prompt.value = str(tmp_path / "report.txt")
        await pilot.press("enter")
        assert "End the name with .csv or .json" in widget_text(app.screen.query_one("#prompt-problem"))
        prompt.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is detail
        await pilot.press("x")
        await settle(pilot)

    drive(app, scenario)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert len(rows) == len(BROKEN) and {r["exception_type"] for r in rows} == {"ValidationException"}
    assert any(m.startswith("aws medical-imaging start-dicom-import-job --datastore-id ") for m in notifications(app))


def test_counts_of_many_jobs_load_over_follow_up_refreshes(
    world: dict[str, Any], make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ahi.services.import_job_list.COUNTS_PER_REFRESH", 1)
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_jobs(pilot)
        screen = app.screen
        statuses = [row["status"] for row in shown(app).values()]
        assert statuses.count("COMPLETED …") == 1 and screen.refresh_due is not None
        app.clock.advance(1)
        screen.tick()
        await settle(pilot)
        assert sorted(row["status"] for row in shown(app).values()) == ["COMPLETED", "COMPLETED ⚠", "FAILED"]
        assert screen.refresh_due is None, "with --refresh 0 nothing follows once every count is read"

    drive(app, scenario)


def test_start_form_names_each_broken_field_then_starts_the_job(
    world: dict[str, Any], make_app: AppFactory, mi: Any
) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_jobs(pilot, f"jobs {world['store']}")
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert form.query_one("#datastore_id", Input).value == world["store"]
        form.query_one("#input_s3_uri", Input).value = "https://not-s3/x/"
        form.query_one("#role_arn", Input).value = "role"
        form.query_one("#job_name", Input).value = "has space"
        await click(pilot, "#start")
        problems = {name: widget_text(form.query_one(f"#{name}-problem")) for name in ("input_s3_uri", "output_s3_uri", "role_arn", "job_name")}
        assert "must match s3://" in problems["input_s3_uri"] and "is required" in problems["output_s3_uri"]
        assert "at least 20 characters" in problems["role_arn"] and "must match" in problems["job_name"]
        assert app.screen is form
        form.query_one("#input_s3_uri", Input).value = world["failing"]["inputS3Uri"]
        form.query_one("#output_s3_uri", Input).value = f"s3://{OUTPUT_BUCKET}/again/"
        form.query_one("#role_arn", Input).value = world["failing"]["dataAccessRoleArn"]
        form.query_one("#job_name", Input).value = "from-the-form"
        await click(pilot, "#start")
        # The form closes, then the list refreshes (notifications are all kept, however long that takes).
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and "from-the-form" in shown(app), "the new job listed")
        assert any(m.endswith(": SUBMITTED") for m in notifications(app)), notifications(app)
        names = [j["jobName"] for j in mi.list_dicom_import_jobs(datastoreId=world["store"])["jobSummaries"]]
        assert "from-the-form" in names and "from-the-form" in shown(app)

    drive(app, scenario)


def test_a_status_change_is_announced_and_refresh_runs_with_no_job_running(
    world: dict[str, Any], make_app: AppFactory, mi: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ahi.emulator.imports import runner

    gate = threading.Event()
    original = runner.JobRunner.run
    monkeypatch.setattr(runner.JobRunner, "run", lambda self, job_id: (gate.wait(30), original(self, job_id))[1])
    s3.put_object(Bucket=INPUT_BUCKET, Key="later/a.dcm", Body=BROKEN[0][1])
    job_id = mi.start_dicom_import_job(
        jobName="held", datastoreId=world["store"], dataAccessRoleArn=world["clean"]["dataAccessRoleArn"],
        inputS3Uri=f"s3://{INPUT_BUCKET}/later/", outputS3Uri=f"s3://{OUTPUT_BUCKET}/job_output/",
    )["jobId"]  # fmt: skip
    app = make_app("--refresh", "5")

    async def scenario(pilot: Pilot[Any]) -> None:
        await open_jobs(pilot)
        screen = app.screen
        assert shown(app)["held"]["status"] == "SUBMITTED" and screen.refresh_due is not None
        gate.set()
        while mi.get_dicom_import_job(datastoreId=world["store"], jobId=job_id)["jobProperties"]["jobStatus"] != "COMPLETED":
            await pilot.pause(0.05)
        app.clock.advance(5)
        screen.tick()
        await settle(pilot)
        assert "held: SUBMITTED → COMPLETED — 1 failed file(s)" in notifications(app)
        assert shown(app)["held"]["status"] == "COMPLETED ⚠"
        assert screen.refresh_due is not None and "auto 5 s" in widget_text(screen.query_one("#status-line"))

    drive(app, scenario)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_jobs_table(size: tuple[int, int], world: dict[str, Any], make_app: AppFactory, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_jobs(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_job_detail(
    size: tuple[int, int], world: dict[str, Any], make_app: AppFactory, endpoint: LocalEndpoint, snap_compare: Any
) -> None:
    app = make_app()
    app.formatter = Formatter(masks=app.formatter.masks, fixed_time=FROZEN.strftime("%Y-%m-%d %H:%M:%S"))

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_failing_job(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
