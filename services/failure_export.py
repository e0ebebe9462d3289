"""Export a job's failure report (grouped reasons and their files) as CSV or JSON to a local file."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ahi.services.atomic_file import atomic_text_file
from ahi.services.failure_reasons import FailureGroup
from ahi.services.input_objects import ObjectInfo, ObjectLookup

FORMATS = ("csv", "json")
CSV_COLUMNS = (
    "reason", "exception_type", "message", "input_file", "line", "size", "last_modified", "lookup_problem",
)  # fmt: skip

#: Known input-object details for a file, or None when it was never looked up (no S3 call is made here).
LookupSource = Callable[[str], "ObjectLookup | None"]


def _object_columns(lookup: ObjectLookup | None) -> dict[str, Any]:
    if isinstance(lookup, ObjectInfo):
        modified = lookup.last_modified.isoformat() if lookup.last_modified else ""
        return {"size": lookup.size, "last_modified": modified, "lookup_problem": ""}
    if lookup is not None:
        return {"size": "", "last_modified": "", "lookup_problem": lookup.message}
    return {"size": "", "last_modified": "", "lookup_problem": ""}


def _rows(groups: Sequence[FailureGroup], known: LookupSource | None) -> Iterator[dict[str, Any]]:
    for group in groups:
        for failure in group.members:
            yield {
                "reason": group.key.label,
                "exception_type": failure.exception_type,
                "message": failure.message,
                "input_file": failure.input_file,
                "line": failure.span.number,
                **_object_columns(known(failure.input_file) if known else None),
            }


def _json_document(groups: Sequence[FailureGroup], job: dict[str, Any], known: LookupSource | None) -> dict:
    return {
        "job": job,
        "totalFailures": sum(g.count for g in groups),
        "groups": [
            {
                "exceptionType": g.key.exception_type,
                "reason": g.key.pattern,
                "count": g.count,
                "files": [
                    {k: v for k, v in row.items() if k not in ("reason", "exception_type") and v != ""}
                    for row in _rows([g], known)
                ],
            }
            for g in groups
        ],
    }


def export_failures(
    path: str | os.PathLike[str],
    groups: Sequence[FailureGroup],
    fmt: str | None = None,
    *,
    job: dict[str, Any] | None = None,
    known: LookupSource | None = None,
) -> Path:
    """Write the report to `path` (format from `fmt`, else from the suffix); atomic, so no half-written file remains.

    Raises ValueError for an unknown format and OSError when the file cannot be written.
    """
    target = Path(path).expanduser()
    fmt = (fmt or target.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)} (or a .csv/.json name)")
    with atomic_text_file(target) as out:
        if fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(_rows(groups, known))
        else:
            json.dump(_json_document(groups, job or {}, known), out, indent=2, default=str)
            out.write("\n")
    return target
