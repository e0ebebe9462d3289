"""The parts of a STOW-RS request through the import pipeline: each file processed, each series placed.

The same steps as an import job (emulator/imports/pipeline.py): validation, transcoding, checksums,
grouping into one image set per series and set of normalized elements, the metadata quota, and
primary/non-primary placement (docs/primary-image-sets.md). What is ours is in docs/dicomweb.md#stow-rs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

import pydicom

from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.grouping import ImageSetDraft, group_instances
from ahi.emulator.dicom.instance import FileOutcome, ProcessedInstance
from ahi.emulator.dicomweb.stow_body import DICOM, Body, Part
from ahi.emulator.errors import ConflictException, ServiceError
from ahi.emulator.events.details import image_set_created
from ahi.emulator.imagesets.primary import MemberCache
from ahi.emulator.imports.pipeline import DatastoreNotActive, Destination, Interrupted, Pipeline

#: PS3.18 Table 10.5.3-1 / PS3.4 failure reasons for (0008,1197).
PROCESSING_FAILURE = 0x0110
OUT_OF_RESOURCES = 0xA700
DOES_NOT_MATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000


@dataclass(frozen=True)
class Stored:
    """An instance the request stored, and where."""

    sop_class_uid: str
    sop_instance_uid: str
    study_uid: str
    series_uid: str
    image_set_id: str
    is_primary: bool
    #: The import's warning reason codes for the file (docs/clients.md#import-job-output), for (0008,1196).
    warnings: tuple[int, ...] = ()


@dataclass(frozen=True)
class Failed:
    """An instance (or part) the request did not store, and why; the UIDs are those the part could be read for."""

    reason: int
    message: str
    sop_class_uid: str | None = None
    sop_instance_uid: str | None = None


@dataclass
class Outcome:
    """What a request stored and what it did not."""

    stored: list[Stored]
    failed: list[Failed]


@dataclass
class _Read:
    """One part after the pipeline's first step."""

    part: Part
    outcome: FileOutcome | None = None
    failure: Failed | None = None


def store_parts(
    pipeline: Pipeline,
    pool: ThreadPoolExecutor,
    window: int,
    destination: Destination,
    body: Body,
    study_uid: str | None,
) -> Outcome:
    """Process every part (at most `window` at once), then commit each group; `study_uid` for StoreDICOMStudy."""
    lossless_format = pipeline.lossless_format(destination.account_id, destination.region, destination.datastore_id)
    outcome = Outcome([], [])
    instances: list[ProcessedInstance] = []
    for read in _processed(pipeline, pool, window, destination.staging, body, lossless_format):
        failure = read.failure or _failure_of(read, study_uid)
        if failure is not None:
            outcome.failed.append(failure)
        elif read.outcome is not None and read.outcome.instance is not None:
            instances.append(read.outcome.instance)
    members: MemberCache = {}  # what placing this request's series has read, as an import job keeps it
    for draft in group_instances(instances):
        _commit(pipeline, destination, draft, members, outcome)
    return outcome


def _commit(
    pipeline: Pipeline, destination: Destination, draft: ImageSetDraft, members: MemberCache, outcome: Outcome
) -> None:
    """One group into its image set (docs/primary-image-sets.md); what it stored and what did not fit go to `outcome`."""
    study = str(draft.levels["Study"].get("StudyInstanceUID", ""))
    try:
        committed = pipeline.commit(destination, draft, members, lambda tx, committed: None)
    except Interrupted:
        raise ServiceError(
            "The endpoint is stopping; nothing more is stored.", code="ServiceUnavailableException", status=503
        ) from None
    except DatastoreNotActive as gone:
        raise ConflictException(str(gone)) from None
    for instance, reason in committed.overflow:
        outcome.failed.append(Failed(OUT_OF_RESOURCES, reason.message, None, instance.sop_instance_uid))
    if committed.image_set_id is None:
        return
    image_set_created(destination, committed.image_set_id, committed.version, committed.is_primary)
    outcome.stored.extend(
        Stored(
            committed.sop_class_uids.get(instance.sop_instance_uid, ""),
            instance.sop_instance_uid,
            study,
            instance.series_instance_uid,
            committed.image_set_id,
            committed.is_primary,
            tuple(caveat.code for caveat in instance.caveats),
        )
        for instance in committed.instances
    )


def new_staging() -> str:
    """The folder a request stages its frames in (removed, but for committed frames, when it ends)."""
    return f"stow-{uuid.uuid4().hex}"


def _processed(
    pipeline: Pipeline,
    pool: ThreadPoolExecutor,
    window: int,
    staging: str,
    body: Body,
    lossless_format: str | None,
) -> Iterator[_Read]:
    """Each part read by the pipeline, in order, with a bounded number in flight."""
    queue: list[tuple[_Read, Future[FileOutcome] | None]] = []
    parts = iter(body.parts)
    while True:
        while len(queue) < max(1, window):
            part = next(parts, None)
            if part is None:
                break
            read = _Read(part)
            if part.media_type != DICOM:
                read.failure = Failed(
                    CANNOT_UNDERSTAND, f"Part {part.number} is {part.media_type or 'untyped'}, not {DICOM}"
                )
                queue.append((read, None))
                continue
            name = f"part-{part.number}"
            queue.append((read, pool.submit(pipeline.process, staging, name, part.data, lossless_format)))
        if not queue:
            return
        read, future = queue.pop(0)
        if future is not None:
            read.outcome = future.result()
        yield read


def _failure_of(read: _Read, study_uid: str | None) -> Failed | None:
    """Why a processed part is not stored: the pipeline's failure, or (StoreDICOMStudy) another study's instance."""
    outcome = read.outcome
    assert outcome is not None
    if outcome.failure is not None or outcome.instance is None:
        failure = outcome.failure or FileFailure("The part could not be read")
        sop_class, sop_instance = _uids(read.part.data)
        reason = CANNOT_UNDERSTAND if failure.customer else PROCESSING_FAILURE
        return Failed(reason, failure.message, sop_class, sop_instance)
    instance = outcome.instance
    found = str(instance.levels.get("Study", {}).get("StudyInstanceUID", ""))
    if study_uid is not None and found != study_uid:
        sop_class = str(instance.instance.get("DICOM", {}).get("SOPClassUID", "")) or None
        return Failed(
            DOES_NOT_MATCH,
            f"The instance's StudyInstanceUID {found} is not the study {study_uid} the request stores to",
            sop_class,
            instance.sop_instance_uid,
        )
    return None


def _uids(data: IO[bytes]) -> tuple[str | None, str | None]:
    """SOP Class and Instance UIDs of a part that did not import, when its header can be read at all."""
    try:
        data.seek(0)
        dataset = pydicom.dcmread(data, stop_before_pixels=True, specific_tags=["SOPClassUID", "SOPInstanceUID"])
    except Exception:  # noqa: BLE001 - an unreadable part simply has no UIDs to report
        return None, None
    sop_class, sop_instance = dataset.get("SOPClassUID"), dataset.get("SOPInstanceUID")
    return (str(sop_class) if sop_class else None, str(sop_instance) if sop_instance else None)
