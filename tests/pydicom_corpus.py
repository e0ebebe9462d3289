"""pydicom's own test files as an input corpus: their names, each parsed, and jobs or requests without a repeated SOP Instance UID.

A module of its own so the import test (tests/imports) and the DICOMweb round trip (tests/dicomweb) read the
corpus the same way.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_files

DATA_ROOT = Path(pydicom.data.__file__).parent
FILES = sorted(str(Path(path).relative_to(DATA_ROOT)) for path in get_testdata_files() if os.path.isfile(path))


def corpus_dataset(name: str) -> pydicom.Dataset | None:
    """The file parsed by pydicom, or None for one that is not a P10 file (the service reports it as failed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(DATA_ROOT / name)
        except Exception:  # noqa: BLE001 - not a P10 file
            return None


def rounds() -> list[list[str]]:
    """The corpus in batches where no SOP Instance UID repeats (pydicom ships up to nine files sharing one)."""
    seen: dict[str, int] = {}
    by_round: dict[int, list[str]] = {}
    for name in FILES:
        dataset = corpus_dataset(name)
        uid = str(dataset.get("SOPInstanceUID", "")) if dataset is not None else ""
        index = seen.get(uid, 0) if uid else 0
        if uid:
            seen[uid] = index + 1
        by_round.setdefault(index, []).append(name)
    return [by_round[index] for index in sorted(by_round)]
