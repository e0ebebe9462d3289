"""The table export writer: CSV and JSON from the extension, formulas neutralised, atomic, never over a file unasked."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ahi.services.table_export import TableData, spreadsheet_safe, write_table

TABLE = TableData(
    columns=["name", "reason"],
    rows=[
        {"name": "=HYPERLINK(\"http://x\")", "reason": "+1 failed, \"quoted\", comma"},
        {"name": "-2", "reason": "@SUM(A1)"},
        {"name": "plain", "reason": "\tTab and\nnewline"},
        {"name": "missing reason"},
    ],
)


def test_csv_cells_that_a_spreadsheet_would_evaluate_get_a_quote_prefix(tmp_path: Path) -> None:
    path = write_table(tmp_path / "out.csv", TABLE)
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert rows[0] == ["name", "reason"]
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "'+1 failed, \"quoted\", comma"]
    assert rows[2] == ["'-2", "'@SUM(A1)"]
    assert rows[3] == ["plain", "'\tTab and\nnewline"]
    assert rows[4] == ["missing reason", ""]
    assert spreadsheet_safe("\rx") == "'\rx" and spreadsheet_safe("a=b") == "a=b"


def test_json_keeps_every_value_as_it_is(tmp_path: Path) -> None:
    path = write_table(tmp_path / "out.JSON", TABLE)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document[0] == {"name": "=HYPERLINK(\"http://x\")", "reason": "+1 failed, \"quoted\", comma"}
    assert document[3] == {"name": "missing reason", "reason": ""}


def test_an_existing_file_is_kept_unless_overwrite_is_asked(tmp_path: Path) -> None:
    target = tmp_path / "taken.csv"
    target.write_text("mine\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_table(target, TABLE)
    assert target.read_text(encoding="utf-8") == "mine\n"
    write_table(target, TABLE, overwrite=True)
    assert target.read_text(encoding="utf-8").startswith("name,reason")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.csv"], "no temporary file is left beside it"


def test_an_unknown_extension_names_itself_and_writes_nothing(tmp_path: Path) -> None:
    for name, shown in (("out.xlsx", ".xlsx"), ("out", "nothing")):
        with pytest.raises(ValueError, match=f"not {shown}"):
            write_table(tmp_path / name, TABLE)
    assert list(tmp_path.iterdir()) == []
