"""Any console table written to a CSV or JSON file (`:export PATH`): whole or not at all, never over a file unasked.

Cells are foreign text (names, messages, DICOM values) and are written as data: in CSV a cell that a
spreadsheet would read as a formula is prefixed with a quote (docs/table-export.md).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ahi.services.atomic_file import atomic_text_file

FORMATS = ("csv", "json")
#: First characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class TableData:
    """What a table shows: its column keys in order, and one row of plain cell text per shown row."""

    columns: Sequence[str]
    rows: Sequence[dict[str, str]]


def export_format(path: str | os.PathLike[str]) -> str:
    """`csv` or `json` from the file name's extension; ValueError naming the extension otherwise."""
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix not in FORMATS:
        raise ValueError(f"end the file name with .csv or .json (not {('.' + suffix) if suffix else 'nothing'})")
    return suffix


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell no spreadsheet evaluates: a leading `= + - @`, tab or carriage return gets a `'` before it."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def write_table(path: str | os.PathLike[str], table: TableData, *, overwrite: bool = False) -> Path:
    """Write `table` to `path` atomically, in the format its extension names; the path written.

    Raises ValueError for another extension, FileExistsError when the file exists and `overwrite` is
    False (also when it appeared while this was written), OSError when it cannot be written.
    """
    target = Path(path).expanduser()
    fmt = export_format(target)
    with atomic_text_file(target, overwrite=overwrite) as out:
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow([spreadsheet_safe(column) for column in table.columns])
            writer.writerows([spreadsheet_safe(row.get(column, "")) for column in table.columns] for row in table.rows)
        else:
            document = [{column: row.get(column, "") for column in table.columns} for row in table.rows]
            json.dump(document, out, indent=2, ensure_ascii=False)
            out.write("\n")
    return target
