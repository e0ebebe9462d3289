"""The steps an import job and a DICOMweb store (STOW-RS) share: one file to an instance, a group to an image set.

Both run the same validation, transcoding and checksums (`process_file`), stage frames under a folder of
their own, fit each group into the metadata quota and place it against the study's primary image sets
(docs/primary-image-sets.md) in the transaction that writes it. What differs is around these steps:
where the bytes come from and where the outcome of each file is recorded.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.frames import StoredFrame
from ahi.emulator.dicom.grouping import ImageSetDraft, build_document, fit_metadata_quota
from ahi.emulator.dicom.instance import FileOutcome, ProcessedInstance, process_file
from ahi.emulator.ids import new_id
from ahi.emulator.imagesets.primary import IMPORTED, MemberCache, Placement, place_import
from ahi.emulator.store import access, dicomweb_index
from ahi.emulator.store.datastores import get_datastore
from ahi.emulator.store.db import Store
from ahi.emulator.store.frame_files import FrameFiles
from ahi.emulator.store.imagesets import FrameRef, add_version, insert_image_set

log = logging.getLogger("ahi.emulator.imports")

#: How often a series waiting for its study's primary image sets to unlock looks again.
LOCK_POLL_SECONDS = 0.05


class Interrupted(Exception):
    """The endpoint is stopping while a group waits for its study's primary image sets to unlock."""


class DatastoreNotActive(Exception):
    """The data store was deleted (or is no longer ACTIVE) before a group could be written to it."""


@dataclass(frozen=True)
class Destination:
    """Where groups go: a data store, the folder their frames are staged in, and the job writing them (if any)."""

    account_id: str
    region: str
    datastore_id: str
    #: The folder under `frames/jobs/` the frames were staged in: a job's id, or a store request's own.
    staging: str
    import_job_id: str | None = None


@dataclass
class Committed:
    """What became of one group: the image set and version it went to, and the instances that did not fit."""

    instances: list[ProcessedInstance]
    overflow: list[tuple[ProcessedInstance, FileFailure]]
    image_set_id: str | None = None
    version: int = 0
    is_primary: bool = False
    #: The instance blocks written, by SOP Instance UID (read before the instances are released).
    sop_class_uids: dict[str, str] = field(default_factory=dict)


#: Called inside the write transaction once the group is placed: the caller records its files there.
Recorder = Callable[[sqlite3.Connection, Committed], None]


@dataclass
class Pipeline:
    """The shared steps over one store and frame directory; `stopping` interrupts a waiting group."""

    store: Store
    frames: FrameFiles
    now: Callable[[], float]
    stopping: threading.Event

    def lossless_format(self, account_id: str, region: str, datastore_id: str) -> str | None:
        """The data store's `losslessStorageFormat`, which transcoded frames are stored in (docs/stored-syntaxes.md)."""
        with self.store.read() as conn:
            datastore = get_datastore(conn, account_id, region, datastore_id, self.now())
        return None if datastore is None else datastore.lossless_storage_format

    def process(self, staging: str, name: str, stream: BinaryIO, lossless_format: str | None) -> FileOutcome:
        """One file through parsing, checks, decoding and encoding; its frames are staged as they are verified."""

        def stage(frame: StoredFrame) -> None:
            self.frames.write(self.frames.job_path(staging, frame.frame_id, frame.suffix), frame.data)
            frame.data = b""

        return process_file(name, stream, on_frame=stage, lossless_format=lossless_format)

    def commit(
        self, destination: Destination, draft: ImageSetDraft, members: MemberCache | None, record: Recorder
    ) -> Committed:
        """One group, its frames and the caller's records: all visible at once, or not at all.

        Only the instances that fit the metadata quota come back from the spill, so one image set's
        document (at most the quota) is what this holds in memory. With no instance fitting, nothing is
        written and `record` is not called: the caller records the overflow itself.
        """
        image_set_id = new_id()
        draft.instances[0].restore()
        draft, overflow = fit_metadata_quota(draft)
        for instance in draft.instances:
            instance.restore()
        committed = Committed(draft.instances, overflow)
        try:
            if draft.instances:
                committed.sop_class_uids = {
                    instance.sop_instance_uid: str(instance.instance.get("DICOM", {}).get("SOPClassUID", ""))
                    for instance in draft.instances
                }
                document = build_document(destination.datastore_id, image_set_id, draft)
                frames = [
                    FrameRef(frame_id, self.frames.job_path(destination.staging, frame_id, instance.frame_suffix), size)
                    for instance in draft.instances
                    for frame_id, size in instance.frame_sizes
                ]
                self._write(destination, committed, image_set_id, document, frames, members, record)
        finally:
            for instance in [*committed.instances, *(instance for instance, _ in overflow)]:
                instance.release()
        return committed

    def _write(
        self,
        destination: Destination,
        committed: Committed,
        image_set_id: str,
        document: dict[str, Any],
        frames: list[FrameRef],
        members: MemberCache | None,
        record: Recorder,
    ) -> None:
        while True:
            with self.store.transaction() as tx:
                now = self.now()
                datastore = get_datastore(tx, destination.account_id, destination.region, destination.datastore_id, now)
                if datastore is None or datastore.status != "ACTIVE":
                    raise DatastoreNotActive(f"The data store {destination.datastore_id} is no longer ACTIVE")
                placement = place_import(tx, destination.datastore_id, document, members)
                if not placement.wait:
                    committed.image_set_id, committed.version = self._write_image_set(
                        tx, destination, image_set_id, document, frames, placement, now
                    )
                    committed.is_primary = placement.is_primary
                    access.touch(tx, [committed.image_set_id], now)  # an import is a touch (docs/storage-tiers.md)
                    dicomweb_index.record_warnings(  # (0008,1196) of QIDO-RS results (docs/dicomweb.md#import-warnings)
                        tx,
                        destination.datastore_id,
                        [(item.sop_instance_uid, [caveat.code for caveat in item.caveats]) for item in committed.instances],
                    )
                    record(tx, committed)
                    return
            # A primary image set of the study is LOCKED by an update or copy: place the series once it settles.
            self.stopping.wait(LOCK_POLL_SECONDS)
            if self.stopping.is_set():
                raise Interrupted()

    def _write_image_set(
        self,
        tx: sqlite3.Connection,
        destination: Destination,
        image_set_id: str,
        document: dict[str, Any],
        frames: list[FrameRef],
        placement: Placement,
        now: float,
    ) -> tuple[str, int]:
        """Write one series where `placement` says (docs/primary-image-sets.md); the image set and version written."""
        if placement.conflict:
            log.info("%s keeps image set %s non-primary: %s", destination.staging, image_set_id, placement.conflict)
        if placement.target is not None:
            assert placement.document is not None
            version = add_version(
                tx,
                placement.target,
                document=placement.document,
                frames=frames,
                now=now,
                workflow_status=IMPORTED,
                import_job_id=destination.import_job_id,
            )
            return placement.target.image_set_id, version
        insert_image_set(
            tx,
            image_set_id=image_set_id,
            datastore_id=destination.datastore_id,
            account_id=destination.account_id,
            region=destination.region,
            document=document,
            frames=frames,
            now=now,
            import_job_id=destination.import_job_id,
            is_primary=placement.is_primary,
        )
        return image_set_id, 1
