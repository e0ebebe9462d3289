"""The instance a WADO-RS path names, from the DICOMweb index and its image set's latest document (docs/dicomweb.md#wado-rs).

Without `imageSetId` only primary image sets are searched; with it, that image set, which must hold the
UIDs (docs/primary-image-sets.md). The attributes served are the latest version's: updates included.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ahi.emulator.dicomweb.route import DicomwebRequest
from ahi.emulator.errors import ConflictException, ResourceNotFoundException, ValidationException
from ahi.emulator.store import dicomweb_index, imagesets
from ahi.emulator.store.documents import decode_document
from ahi.emulator.store.imagesets import FrameRef
from ahi.emulator.tiers import touch_on_read

IMAGE_SET_PARAMETER = "imageSetId"
_IMAGE_SET_ID = re.compile(r"[0-9a-z]{32}")
LEVELS = ("Patient", "Study")


@dataclass(frozen=True)
class StoredInstance:
    """One instance of an image set's latest version: its merged attributes, VRs, stored syntax and frames."""

    image_set_id: str
    version: int
    study_uid: str
    series_uid: str
    sop_uid: str
    #: Patient, Study, Series and instance attributes in one mapping (file meta included).
    attributes: dict[str, Any]
    vrs: dict[str, str]
    stored_syntax: str
    #: The document's frame entries (ID, FrameSizeInBytes, ...), in frame order.
    frames: list[dict[str, Any]]


def image_set_parameter(call: DicomwebRequest) -> str | None:
    """The `imageSetId` query parameter, checked (ValidationException naming it when malformed)."""
    values = call.request.args.getlist(IMAGE_SET_PARAMETER)
    if not values:
        return None
    if len(values) > 1 or not _IMAGE_SET_ID.fullmatch(values[0]):
        raise ValidationException(f"{IMAGE_SET_PARAMETER} must be one image set ID (32 lowercase letters and digits)")
    return values[0]


def load_instance(call: DicomwebRequest) -> StoredInstance:
    """The instance of the path's study, series and SOP Instance UIDs."""
    study, series, sop = call.labels["study"], call.labels["series"], call.labels["sop"]
    image_set_id = image_set_parameter(call)
    store = call.runtime.store
    with store.read() as conn:
        found = dicomweb_index.find_instance(
            conn, call.account_id, call.region, call.datastore_id, study, series, sop, image_set_id
        )
        document = None if found is None else DOCUMENTS.document(conn, store.path, *found)
    if found is None or document is None:
        raise ResourceNotFoundException(_missing("Instance", sop, image_set_id))
    instance = next(_instances(found, document, series, only=sop), None)
    if instance is None:
        raise ResourceNotFoundException(_missing("Instance", sop, image_set_id))
    return instance


def load_series(call: DicomwebRequest) -> list[StoredInstance]:
    """Every instance of the path's series in the image sets that hold it (primary only without imageSetId)."""
    study, series = call.labels["study"], call.labels["series"]
    image_set_id = image_set_parameter(call)
    store = call.runtime.store
    with store.read() as conn:
        holders = dicomweb_index.series_image_sets(
            conn, call.account_id, call.region, call.datastore_id, study, series, image_set_id
        )
        documents = [(holder, DOCUMENTS.document(conn, store.path, *holder)) for holder in holders]
    found = [instance for holder, document in documents if document for instance in _instances(holder, document, series)]
    if not found:
        raise ResourceNotFoundException(_missing("Series", series, image_set_id))
    return found


def served(call: DicomwebRequest, instances: list[StoredInstance]) -> None:
    """A retrieve succeeded: each image set it read from was accessed (docs/storage-tiers.md).

    A HEAD sends no data, so it is no access (docs/dicomweb.md#routing).
    """
    if call.request.method == "HEAD":
        return
    for image_set_id in dict.fromkeys(instance.image_set_id for instance in instances):
        touch_on_read(call.runtime.store, image_set_id, call.runtime.now())


def frame_ref(call: DicomwebRequest, instance: StoredInstance, number: int) -> FrameRef:
    """Where frame `number` (1-based) of an instance is stored."""
    frame_id = str(instance.frames[number - 1]["ID"])
    with call.runtime.store.read() as conn:
        found = imagesets.find_frame(conn, instance.image_set_id, frame_id)
    if found is None:
        raise ConflictException(f"Frame {number} of instance {instance.sop_uid} is not available yet; try again shortly")
    return found


class DocumentCache:
    """The parsed documents of the last few (image set, version) reads.

    A viewer fetches a series frame by frame, and each retrieve needs its instance's attributes: parsing
    a 300-instance document takes tens of milliseconds, reading its compressed bytes almost nothing. The
    key includes the bytes' length and CRC, so a version whose document is rewritten (an update settling)
    is parsed again, never served stale. Cached documents are shared: nothing may change them.
    """

    def __init__(self, entries: int = 8, largest: int = 4 << 20) -> None:
        self.entries, self.largest = entries, largest
        self._items: OrderedDict[tuple[str, str, int, int, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def document(self, conn: Any, store: Path, image_set_id: str, version: int) -> dict[str, Any] | None:
        blob = imagesets.read_metadata(conn, image_set_id, version)
        if blob is None:
            return None
        key = (str(store), image_set_id, version, len(blob), zlib.crc32(blob))
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        document: dict[str, Any] = decode_document(blob)
        if len(blob) <= self.largest:
            with self._lock:
                self._items[key] = document
                while len(self._items) > self.entries:
                    self._items.popitem(last=False)
        return document


DOCUMENTS = DocumentCache()


def _instances(
    holder: tuple[str, int], document: dict[str, Any], series_uid: str, only: str | None = None
) -> Iterator[StoredInstance]:
    """The instances of one series in a document (just `only` when given), their levels' attributes merged in."""
    study = document.get("Study") or {}
    series = (study.get("Series") or {}).get(series_uid)
    if series is None:
        return
    shared: dict[str, Any] = {}
    shared.update((document.get("Patient") or {}).get("DICOM") or {})
    shared.update(study.get("DICOM") or {})
    shared.update(series.get("DICOM") or {})
    study_uid = str(shared.get("StudyInstanceUID") or "")
    blocks: dict[str, Any] = series.get("Instances") or {}
    if only is not None:
        blocks = {only: blocks[only]} if only in blocks else {}
    for sop_uid, block in blocks.items():
        yield StoredInstance(
            image_set_id=holder[0],
            version=holder[1],
            study_uid=study_uid,
            series_uid=series_uid,
            sop_uid=sop_uid,
            attributes={**shared, **(block.get("DICOM") or {})},
            vrs=dict(block.get("DICOMVRs") or {}),
            stored_syntax=str(block.get("StoredTransferSyntaxUID") or ""),
            frames=list(block.get("ImageFrames") or []),
        )


def _missing(kind: str, uid: str, image_set_id: str | None) -> str:
    where = f"image set {image_set_id}" if image_set_id else "the primary image sets of this data store"
    return f"{kind} {uid} does not exist in {where}"
