"""In a real terminal (tmux): `:jobs`, `f`, Enter on the job with failures, the grouped reasons, export, the file.

The console runs its own in-process endpoint; the test reads its URL off the header, imports a batch
with broken files there through boto3, then drives the console with keys and reads capture-pane,
polling and never sleeping blind.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import pytest
from journey_clients import journey_clients
from tmux_harness import Tmux

from ahi.emulator.demo.phantoms import broken_files, ct_series

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

BROKEN = broken_files()


def import_with_failures(endpoint_url: str) -> None:
    """On the console's own endpoint: a data store and a COMPLETED import where the broken files failed."""
    s3, mi = journey_clients(endpoint_url, "s3", "medical-imaging")
    for bucket in ("journey-in", "journey-out"):
        s3.create_bucket(Bucket=bucket)
    for name, data in ct_series(2, 32) + BROKEN:
        s3.put_object(Bucket="journey-in", Key=f"night/{name}", Body=data)
    datastore_id = mi.create_datastore(datastoreName="journey-store", clientToken="journey")["datastoreId"]
    deadline = time.monotonic() + 20
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "the data store never became ACTIVE"
        time.sleep(0.1)
    job_id = mi.start_dicom_import_job(
        jobName="nightly-ct", datastoreId=datastore_id, dataAccessRoleArn="arn:aws:iam::123456789012:role/Import",
        inputS3Uri="s3://journey-in/night/", outputS3Uri="s3://journey-out/jobs/",
    )["jobId"]  # fmt: skip
    while mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"] != "COMPLETED":
        assert time.monotonic() < deadline + 40, "the import never completed"
        time.sleep(0.1)


def test_failed_job_triage_and_export(tmux: Tmux, state_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "nightly-failures.csv"
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    import_with_failures(tmux.endpoint_url())

    tmux.command("jobs")
    tmux.wait_for(lambda s: "nightly-ct" in s and "COMPLETED ⚠" in s, "the job marked as needing attention")
    tmux.keys("f")
    tmux.wait_for(lambda s: "view: failed" in s and "nightly-ct" in s, "the failed view")
    tmux.keys("Enter")
    screen = tmux.wait_for(lambda s: f"Failures ({len(BROKEN)} in {len(BROKEN)} reason(s))" in s, "the grouped reasons")
    assert "TransferSyntaxUID does not exist" in screen and "customer errors" in screen
    assert "no retry  ValidationException" in screen, "each reason says whether a re-import can help"

    tmux.keys("e")
    tmux.wait_for(lambda s: "Export failure report to" in s, "the export prompt")
    tmux.keys("C-u")
    tmux.wait_for(lambda s: "failures-" not in s, "the proposed path cleared")  # keys typed sooner can be lost
    tmux.keys("-l", str(report))
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "Report exported" in s, "the export notification")
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert len(rows) == len(BROKEN)
    assert {row["input_file"] for row in rows} == {f"night/{name}" for name, _ in BROKEN}
    assert any("TransferSyntaxUID does not exist" in row["reason"] for row in rows)
