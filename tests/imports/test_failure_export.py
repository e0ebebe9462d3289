"""Export of the failure report to a local CSV or JSON file."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ahi.services.failure_export import export_failures
from ahi.services.failure_reasons import group_failures
from ahi.services.input_objects import ObjectInfo
from ahi.services.job_output import FailureLine, LineSpan
from ahi.services.s3_location import S3Problem, S3ProblemKind, S3Uri

FAILURES = [
    FailureLine(LineSpan(1, 0, 10), "in/a.dcm", "ValidationException", "Unsupported transfer syntax 1.2.3.4"),
    FailureLine(LineSpan(2, 10, 10), "in/b, \"quoted\".dcm", "ValidationException", "Unsupported transfer syntax 1.2.5.6"),
    FailureLine(LineSpan(3, 20, 10), "in/c.dcm", "InternalServerException", "Internal error"),
]
MODIFIED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
KNOWN = {
    "in/a.dcm": ObjectInfo(S3Uri("in-bucket", "in/a.dcm"), 1234, MODIFIED),
    "in/c.dcm": S3Problem(S3ProblemKind.MISSING, "s3://in-bucket/in/c.dcm", "404"),
}


def test_csv_has_one_row_per_file_with_its_reason_and_known_object_details(tmp_path: Path) -> None:
    path = export_failures(tmp_path / "report.csv", group_failures(FAILURES), known=KNOWN.get)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["input_file"] for r in rows] == ["in/a.dcm", 'in/b, "quoted".dcm', "in/c.dcm"]
    assert rows[0]["reason"] == "ValidationException: Unsupported transfer syntax <uid>"
    assert (rows[0]["size"], rows[0]["last_modified"], rows[0]["line"]) == ("1234", MODIFIED.isoformat(), "1")
    assert rows[1]["size"] == "" and rows[1]["lookup_problem"] == ""
    assert "does not exist" in rows[2]["lookup_problem"]


def test_json_groups_the_files_under_their_reasons(tmp_path: Path) -> None:
    job = {"jobId": "j" * 32, "datastoreId": "d" * 32}
    path = export_failures(tmp_path / "nested" / "report.json", group_failures(FAILURES), job=job, known=KNOWN.get)
    document = json.loads(path.read_text())
    assert document["job"] == job and document["totalFailures"] == 3
    assert [(g["exceptionType"], g["reason"], g["count"]) for g in document["groups"]] == [
        ("ValidationException", "Unsupported transfer syntax <uid>", 2),
        ("InternalServerException", "Internal error", 1),
    ]
    first = document["groups"][0]["files"][0]
    assert first == {"message": "Unsupported transfer syntax 1.2.3.4", "input_file": "in/a.dcm", "line": 1,
                     "size": 1234, "last_modified": MODIFIED.isoformat()}  # fmt: skip


def test_an_explicit_format_wins_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    path = export_failures(tmp_path / "report.txt", group_failures(FAILURES), "json")
    assert json.loads(path.read_text())["totalFailures"] == 3
    with pytest.raises(ValueError, match="unknown export format 'txt'"):
        export_failures(tmp_path / "report.txt", group_failures(FAILURES))


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous export\n")

    def broken(_: str) -> None:
        raise RuntimeError("lookup exploded mid-export")

    with pytest.raises(RuntimeError):
        export_failures(target, group_failures(FAILURES), known=broken)  # type: ignore[arg-type]
    assert target.read_text() == "previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
