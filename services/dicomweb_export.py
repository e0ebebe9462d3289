"""Export an image set, a series or an instance as `.dcm` files through GetDICOMInstance.

The instances come from the image set's metadata document (Study → Series → Instances). Each is asked
for in Explicit VR Little Endian, which every DICOM reader opens; when the service cannot give that
syntax (406) it is asked for again as stored (`*`) and the summary says how many came so
(docs/dicomweb.md#console). Every request names the image set (`imageSetId`), so non-primary image
sets export too. Four instances are fetched at a time. File names are the SOP Instance UIDs, made safe for a file system; a name already
taken gets a suffix, never an overwrite.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ahi.services.dicomweb import AS_STORED, EXPLICIT_VR_LITTLE_ENDIAN, DicomwebService, InstanceFile
from ahi.services.dicomweb_urls import DicomwebTarget
from ahi.services.errors import AwsCallError

_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")
STEM_CHARS = 120
NOT_ACCEPTABLE = "NotAcceptableException"
#: Instances fetched at once: a few requests in flight hide the round trip to AWS without crowding the
#: connection pool (services/dicomweb.py keeps four connections) or a throttled account.
PARALLEL = 4


@dataclass(frozen=True)
class ExportItem:
    """One instance to write: where it is, and the file name (without `.dcm`) it gets."""

    target: DicomwebTarget
    stem: str


@dataclass
class ExportSummary:
    """What an export did: files written, instances that failed (with why), how many came as stored."""

    folder: Path
    total: int
    written: list[InstanceFile] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False

    @property
    def as_stored(self) -> int:
        return sum(1 for item in self.written if item.transfer_syntax == AS_STORED)

    @property
    def bytes_written(self) -> int:
        return sum(item.size for item in self.written)

    def text(self) -> str:
        """One paragraph for a notification and the export line."""
        parts = [f"{len(self.written)} of {self.total} instances written to {self.folder} ({self.bytes_written:,} bytes)"]
        if self.as_stored:
            parts.append(f"{self.as_stored} in their stored transfer syntax (Explicit VR Little Endian was refused)")
        if self.failed:
            sop, why = self.failed[0]
            more = f" and {len(self.failed) - 1} more" if len(self.failed) > 1 else ""
            parts.append(f"{len(self.failed)} failed: {sop}: {why}{more}")
        if self.cancelled:
            parts.append("stopped before the end")
        return "; ".join(parts)


def safe_stem(uid: str) -> str:
    """A UID (foreign text) as a file name: only letters, digits, `.`, `_`, `-`; never hidden, never empty."""
    stem = _UNSAFE.sub("_", uid)[:STEM_CHARS].lstrip(".")
    return stem or "instance"


def _members(container: Any, key: str) -> Mapping[str, Any]:
    value = container.get(key) if isinstance(container, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def study_uid(document: Mapping[str, Any]) -> str | None:
    """The StudyInstanceUID of a metadata document, when it has one."""
    uid = _members(_members(document, "Study"), "DICOM").get("StudyInstanceUID")
    return uid if isinstance(uid, str) and uid else None


def plan_export(
    datastore_id: str, image_set_id: str, document: Mapping[str, Any], series_uid: str | None = None, sop_uid: str | None = None
) -> list[ExportItem]:
    """The instances of the image set, of one series, or the one instance, in document order."""
    study = study_uid(document)
    if study is None:
        return []
    base = DicomwebTarget(datastore_id, study, image_set_id=image_set_id)
    items: list[ExportItem] = []
    for series, body in _members(_members(document, "Study"), "Series").items():
        if series_uid is not None and series != series_uid:
            continue
        for sop in _members(body, "Instances"):
            if sop_uid is None or sop == sop_uid:
                items.append(ExportItem(base.instance(series, sop), safe_stem(sop)))
    return items


Progress = Callable[[int, int, str], None]


def run_export(
    service: DicomwebService,
    items: list[ExportItem],
    folder: Path,
    on_progress: Progress,
    cancelled: Callable[[], bool] = lambda: False,
    parallel: int = PARALLEL,
) -> ExportSummary:
    """Write each item into `folder`, `parallel` at a time; `on_progress(done, total, name)` after each (from
    the threads that fetch); failures are collected, not raised; `cancelled()` stops the ones not yet begun."""
    summary = ExportSummary(folder, len(items))
    lock = threading.Lock()
    handled = 0

    def one(item: ExportItem) -> None:
        nonlocal handled
        if cancelled():
            return
        sop = item.target.sop_uid or item.stem
        try:
            written: InstanceFile | None = _export_one(service, item, folder)
            why = ""
        except AwsCallError as error:
            written, why = None, f"{error.code}: {error.message}"
        except OSError as exc:
            written, why = None, f"cannot write: {exc.strerror or exc}"
        with lock:
            if written is not None:
                summary.written.append(written)
            else:
                summary.failed.append((sop, why))
            handled += 1
            done = handled
        on_progress(done, len(items), item.stem)

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="dicomweb-export") as pool:
        list(pool.map(one, items))
    summary.cancelled = handled < len(items)
    return summary


def _export_one(service: DicomwebService, item: ExportItem, folder: Path) -> InstanceFile:
    try:
        return service.get_instance(item.target, folder, item.stem, EXPLICIT_VR_LITTLE_ENDIAN)
    except AwsCallError as error:
        if error.code != NOT_ACCEPTABLE:
            raise
    return service.get_instance(item.target, folder, item.stem, AS_STORED)
