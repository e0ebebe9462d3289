"""The service's events for data stores, import jobs and image sets: detail type, resources and detail fields.

Field names and values follow docs/events.md#the-events (including the detail's lowercase-s `imagesetId`).
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

from ahi.emulator.arns import datastore_arn, image_set_arn
from ahi.emulator.events.publisher import Event, publish

if TYPE_CHECKING:
    from ahi.emulator.imports.pipeline import Destination
    from ahi.emulator.runtime import Runtime
    from ahi.emulator.store.import_jobs import ImportJob
    from ahi.emulator.store.imagesets import ImageSetVersion

DATASTORE_EVENTS = {
    "CREATING": "Data Store Creating",
    "ACTIVE": "Data Store Created",
    "CREATE_FAILED": "Data Store Creation Failed",
    "DELETING": "Data Store Deleting",
    "DELETED": "Data Store Deleted",
}
JOB_EVENTS = {
    "SUBMITTED": "Import Job Submitted",
    "IN_PROGRESS": "Import Job In Progress",
    "COMPLETED": "Import Job Completed",
    "FAILED": "Import Job Failed",
}
IMAGE_SET_EVENTS = {
    "CREATED": "Image Set Created",
    "COPYING": "Image Set Copying",
    "COPYING_WITH_READ_ONLY_ACCESS": "Image Set Copying With Read Only Access",
    "COPIED": "Image Set Copied",
    "COPY_FAILED": "Image Set Copy Failed",
    "UPDATING": "Image Set Updating",
    "UPDATED": "Image Set Updated",
    "UPDATE_FAILED": "Image Set Update Failed",
    "DELETING": "Image Set Deleting",
    "DELETED": "Image Set Deleted",
}
#: What a write's LOCKED status settles into sends an event; a copy's source going back to its own status does not.
SETTLING_WRITES = ("COPYING", "UPDATING", "DELETING")


def datastore_changed(
    runtime: Runtime, account_id: str, region: str, datastore_id: str, name: str, status: str, at: float | None = None
) -> None:
    """A data store reached `status`; `at` (the runtime's clock) when it reaches it later, e.g. CREATING -> ACTIVE."""
    when = _wall_time(runtime, at)
    event = Event(
        account_id,
        region,
        DATASTORE_EVENTS[status],
        [datastore_arn(region, account_id, datastore_id)],
        {"datastoreId": datastore_id, "datastoreName": name, "datastoreStatus": status},
        at=when,
    )
    publish(event, due=when)


def job_changed(job: ImportJob, status: str) -> None:
    """An import job reached `status`."""
    publish(
        Event(
            job.account_id,
            job.region,
            JOB_EVENTS[status],
            [datastore_arn(job.region, job.account_id, job.datastore_id)],
            {
                "datastoreId": job.datastore_id,
                "jobId": job.job_id,
                "jobName": job.job_name,
                "jobStatus": status,
                "inputS3Uri": job.input_s3_uri,
                "outputS3Uri": job.output_s3_uri,
            },
        )
    )


def image_set_changed(image_set: ImageSetVersion, version: int, state: str, workflow_status: str, **extra: object) -> None:
    """An image set version reached `state`/`workflow_status` (`extra`: e.g. sourceImageSetArn of a copy)."""
    event = image_set_event(
        image_set.account_id, image_set.region, image_set.datastore_id, image_set.image_set_id,
        image_set.is_primary, version, state, workflow_status,
    )
    if event is not None:
        event.detail.update(extra)
        publish(event)


def image_set_event(
    account_id: str, region: str, datastore_id: str, image_set_id: str, is_primary: bool, version: int,
    state: str, workflow_status: str,
) -> Event | None:
    """The event of an image set status, or None for a status no event names (e.g. UPDATING_FOR_STUDY_CONSISTENCY)."""
    detail_type = IMAGE_SET_EVENTS.get(workflow_status)
    if detail_type is None:
        return None
    return Event(
        account_id,
        region,
        detail_type,
        [image_set_arn(region, account_id, datastore_id, image_set_id)],
        {
            "isPrimary": is_primary,
            "imageSetVersion": str(version),
            "datastoreId": datastore_id,
            "imagesetId": image_set_id,
            "imageSetState": state,
            "imageSetWorkflowStatus": workflow_status,
        },
    )


def settled_event(conn: sqlite3.Connection, lock: sqlite3.Row, state: str, workflow_status: str) -> Event | None:
    """The event of a due lock settling as `state`/`workflow_status`, read before it is applied; None if it sends none."""
    row = conn.execute(
        "SELECT s.account_id, s.region, s.datastore_id, s.is_primary, v.workflow_status FROM image_sets s"
        " JOIN image_set_versions v ON v.image_set_id = s.image_set_id AND v.version = ?"
        " WHERE s.image_set_id = ?",
        (lock["version"], lock["image_set_id"]),
    ).fetchone()
    if row is None or row[4] not in SETTLING_WRITES:
        return None
    return image_set_event(
        row[0], row[1], row[2], lock["image_set_id"], bool(row[3]), lock["version"], state, workflow_status
    )


def _wall_time(runtime: Runtime, at: float | None) -> float:
    """A time on the runtime's clock (tests may move it) as the wall-clock time the publisher waits for."""
    return time.time() if at is None else time.time() + max(0.0, at - runtime.now())


def image_set_created(job: ImportJob | Destination, image_set_id: str, version: int, is_primary: bool) -> None:
    """An import or a DICOMweb store wrote an image set, or a new version of one (imageSetVersion counts re-imports)."""
    event = image_set_event(
        job.account_id, job.region, job.datastore_id, image_set_id, is_primary, version, "ACTIVE", "CREATED"
    )
    assert event is not None
    publish(event)
