"""UpdateImageSetMetadata, CopyImageSet and DeleteImageSet: asynchronous writes that LOCK image sets.

Each request checks what it can at once, commits the LOCKED versions and what they become, and
answers LOCKED; `EndpointConfig.imageset_lock_seconds` later the background settler
(emulator/imagesets/locks.py) unlocks them. Choices where the guide is silent (docs/service.md#copying):
- any write to a LOCKED or DELETED image set is a ConflictException, and so is a `latestVersionId`
  that is not the current latest version (the AWS scenario treats Conflict on delete as "already
  deleted");
- a failed update or copy still consumes its version: ACTIVE / UPDATE_FAILED or COPY_FAILED with a
  `message`, keeping the previous document (see emulator/imagesets/patch.py for what fails when);
- a copy's source keeps its version and, once the copy ends, its own state, status and updatedAt;
  a new destination is non-primary unless `promoteToPrimary`, which takes the place of the primary
  image sets holding the same series (docs/primary-image-sets.md#promotion); frames are shared with
  the source, not copied;
- deleting marks every version DELETED and drops documents and frames; GetImageSet and
  ListImageSetVersions still describe the image set (the AWS demo polls GetImageSet for DELETED);
- `includeStudyImageSets` applies a Patient/Study-level patch to the image set and every other
  non-deleted primary image set of its study in the data store, atomically: all get a new version
  (the others UPDATING_FOR_STUDY_CONSISTENCY while locked), and all fail when it fails for one;
- the per-data-store concurrency quotas (100 updates, copies, deletes in flight) are enforced; the
  0.25 TPS throttling is not (it would only slow local work down).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ahi.emulator.arns import image_set_arn
from ahi.emulator.context import RequestContext
from ahi.emulator.errors import ConflictException, ServiceQuotaExceededException, ThrottlingException, ValidationException
from ahi.emulator.events.details import image_set_changed
from ahi.emulator.handlers.imagesets_read import load_version
from ahi.emulator.ids import new_id
from ahi.emulator.imagesets.copy import (
    MAX_COPIED_FRAMES,
    as_new_image_set,
    copied_part,
    frame_ids,
    merged,
    parse_copiable,
)
from ahi.emulator.imagesets.patch import Outcome, Patch, PatchFailure, apply_patch, parse_dicom_updates, refuse_unforced
from ahi.emulator.imagesets.primary import promotion_conflicts
from ahi.emulator.store import imagesets, versions
from ahi.emulator.store.imagesets import DELETED, ImageSetVersion
from ahi.emulator.store.versions import ACTIVE, LOCKED, Settlement
from ahi.emulator.timestamps import to_datetime

#: Concurrent UpdateImageSetMetadata, CopyImageSet and DeleteImageSet requests per data store (docs/service.md#quotas).
CONCURRENT_WRITES_QUOTA = 100
SOURCE_MEMBER = "copyImageSetInformation.sourceImageSet"
DESTINATION_MEMBER = "copyImageSetInformation.destinationImageSet"


def _writable(ctx: RequestContext, conn: sqlite3.Connection, datastore_id: str, image_set_id: str) -> ImageSetVersion:
    """The latest version of an image set a write may start on; ConflictException while LOCKED or DELETED."""
    current = load_version(ctx, conn, {"datastoreId": datastore_id, "imageSetId": image_set_id, "versionId": None})
    if current.state == DELETED:
        raise ConflictException(f"Image set {image_set_id} is already DELETED; it cannot be written to")
    if current.state == LOCKED:
        raise ConflictException(
            f"Image set {image_set_id} is LOCKED ({current.workflow_status}); no other write can run on a "
            "locked image set, retry when it is ACTIVE"
        )
    return current


def _check_latest(current: ImageSetVersion, given: str, member: str) -> None:
    if int(given) != current.version:
        raise ConflictException(
            f"{member} {given} is not the latest version of image set {current.image_set_id} "
            f"(the latest is {current.version}); read the image set again and retry"
        )


def _check_quota(conn: sqlite3.Connection, datastore_id: str, operation: str) -> None:
    if versions.count_locks(conn, datastore_id, operation) >= CONCURRENT_WRITES_QUOTA:
        raise ServiceQuotaExceededException(
            f"Data store {datastore_id} already has {CONCURRENT_WRITES_QUOTA} {operation} requests in progress, "
            "the quota; retry when some have finished"
        )


def _document(conn: sqlite3.Connection, version: ImageSetVersion) -> dict[str, Any]:
    document = imagesets.load_document(conn, version.image_set_id, version.version)
    if document is None:
        raise ConflictException(f"Image set {version.image_set_id} version {version.version} has no metadata yet; retry")
    return document


def _properties(version: ImageSetVersion, number: int, status: str, now: float, created_at: float) -> dict[str, Any]:
    return {
        "imageSetId": version.image_set_id,
        "latestVersionId": str(number),
        "imageSetState": LOCKED,
        "imageSetWorkflowStatus": status,
        "createdAt": to_datetime(created_at),
        "updatedAt": to_datetime(now),
        "imageSetArn": image_set_arn(version.region, version.account_id, version.datastore_id, version.image_set_id),
    }


def update_image_set_metadata(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    updates = params["updateImageSetMetadataUpdates"]
    force = bool(params.get("force"))
    whole_study = bool(params.get("includeStudyImageSets"))
    revert_to = updates.get("revertToVersionId")
    patch: Patch | None = None
    if revert_to is not None:
        if whole_study:
            raise ValidationException("includeStudyImageSets is not supported with revertToVersionId")
    else:
        dicom = updates.get("DICOMUpdates") or {}
        patch = parse_dicom_updates(dicom.get("updatableAttributes"), dicom.get("removableAttributes"))
        if whole_study and patch.levels - {"Patient", "Study"}:
            raise ValidationException(
                "includeStudyImageSets applies only to Patient and Study level attributes; this patch also "
                "changes series or instances"
            )
    runtime = ctx.runtime
    with runtime.store.transaction() as tx:
        now = runtime.now()
        settle_at = now + runtime.config.imageset_lock_seconds
        current = _writable(ctx, tx, params["datastoreId"], params["imageSetId"])
        _check_latest(current, params["latestVersionId"], "latestVersionId")
        _check_quota(tx, current.datastore_id, versions.UPDATE)
        targets = [current]
        if whole_study:
            targets += _study_image_sets(ctx, tx, current)
        documents = [_document(tx, target) for target in targets]
        if patch is None:
            assert revert_to is not None
            outcomes = [Outcome(_reverted(tx, current, revert_to))]
        else:
            for target in targets:
                refuse_unforced(patch, force=force, is_primary=target.is_primary)
            outcomes = [apply_patch(document, patch) for document in documents]
        failure = next((outcome.message for outcome in outcomes if outcome.document is None), None)
        numbers = []
        for index, (target, document, outcome) in enumerate(zip(targets, documents, outcomes)):
            settlement = Settlement(
                state=ACTIVE,
                workflow_status="UPDATE_FAILED" if failure else "UPDATED",
                message=failure,
                document=document if failure or outcome.document is None else outcome.document,
                reindex=True,
            )
            numbers.append(
                versions.lock_new_version(
                    tx,
                    target,
                    operation=versions.UPDATE,
                    # The other image sets of the study (includeStudyImageSets) are updated to stay consistent
                    # with the requested one (docs/primary-image-sets.md#workflow-statuses).
                    status="UPDATING" if index == 0 else "UPDATING_FOR_STUDY_CONSISTENCY",
                    now=now,
                    settle_at=settle_at,
                    settlement=settlement,
                    forced=True if force else None,
                )
            )
    runtime.image_set_locks.scheduled(settle_at)
    image_set_changed(current, numbers[0], LOCKED, "UPDATING")
    return {
        "datastoreId": current.datastore_id,
        "imageSetId": current.image_set_id,
        "latestVersionId": str(numbers[0]),
        "imageSetState": LOCKED,
        "imageSetWorkflowStatus": "UPDATING",
        "createdAt": to_datetime(current.created_at),
        "updatedAt": to_datetime(now),
    }


def _reverted(conn: sqlite3.Connection, current: ImageSetVersion, revert_to: str) -> dict[str, Any]:
    """The document of the version to revert to; ValidationException when there is no such version."""
    number = int(revert_to)
    document = imagesets.load_document(conn, current.image_set_id, number) if 1 <= number <= current.version else None
    if document is None:
        raise ValidationException(
            f"updateImageSetMetadataUpdates.revertToVersionId {revert_to} is not a version of image set "
            f"{current.image_set_id} (its versions are 1 to {current.version})"
        )
    return document


def _study_image_sets(ctx: RequestContext, conn: sqlite3.Connection, current: ImageSetVersion) -> list[ImageSetVersion]:
    """The other primary image sets of the same study (includeStudyImageSets); Conflict if one is LOCKED."""
    study_uid = _document(conn, current).get("Study", {}).get("DICOM", {}).get("StudyInstanceUID")
    siblings = []
    for image_set_id in imagesets.primary_study_image_sets(conn, current.datastore_id, study_uid, current.image_set_id):
        siblings.append(_writable(ctx, conn, current.datastore_id, image_set_id))
    return siblings


def copy_image_set(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    information = params["copyImageSetInformation"]
    source_information = information["sourceImageSet"]
    destination_information = information.get("destinationImageSet")
    force = bool(params.get("force"))
    promote = bool(params.get("promoteToPrimary"))
    selection = parse_copiable((source_information.get("DICOMCopies") or {}).get("copiableAttributes"))
    datastore_id, source_id = params["datastoreId"], params["sourceImageSetId"]
    if destination_information is not None and destination_information["imageSetId"] == source_id:
        raise ValidationException(f"{DESTINATION_MEMBER}.imageSetId must differ from sourceImageSetId")
    runtime = ctx.runtime
    with runtime.store.transaction() as tx:
        now = runtime.now()
        settle_at = now + runtime.config.imageset_lock_seconds
        source = _writable(ctx, tx, datastore_id, source_id)
        _check_latest(source, source_information["latestVersionId"], f"{SOURCE_MEMBER}.latestVersionId")
        destination = None
        if destination_information is not None:
            destination = _writable(ctx, tx, datastore_id, destination_information["imageSetId"])
            _check_latest(destination, destination_information["latestVersionId"], f"{DESTINATION_MEMBER}.latestVersionId")
        _check_quota(tx, datastore_id, versions.COPY)
        try:
            part = copied_part(_document(tx, source), selection)
        except PatchFailure as failure:
            raise ValidationException(f"{SOURCE_MEMBER}.DICOMCopies.copiableAttributes: {failure}") from None
        frames = frame_ids(part)
        if len(frames) > MAX_COPIED_FRAMES:
            raise ServiceQuotaExceededException(
                f"This copy would copy {len(frames)} image frames; the quota is {MAX_COPIED_FRAMES} per CopyImageSet "
                "request (copy a subset with copiableAttributes)"
            )
        forced = True if force else None
        if destination is None:
            destination_id = new_id()
            document = as_new_image_set(part, destination_id)
            if promote:
                _promote(tx, datastore_id, document, destination_id)
            versions.insert_locked_image_set(
                tx,
                image_set_id=destination_id,
                datastore_id=datastore_id,
                account_id=source.account_id,
                region=source.region,
                status="COPYING",
                document=document,
                now=now,
                settle_at=settle_at,
                is_primary=promote,
                forced=forced,
                settlement=Settlement(ACTIVE, "COPIED", document=document, reindex=True),
            )
            versions.copy_frame_rows(tx, source.image_set_id, destination_id, frames)
            destination = imagesets.get_version(tx, source.account_id, source.region, datastore_id, destination_id)
            assert destination is not None
            destination_number, destination_created = 1, now
        else:
            previous = _document(tx, destination)
            outcome = merged(previous, part, force=force)
            destination_number = versions.lock_new_version(
                tx,
                destination,
                operation=versions.COPY,
                status="COPYING",
                now=now,
                settle_at=settle_at,
                settlement=Settlement(
                    ACTIVE,
                    "COPIED" if outcome.document is not None else "COPY_FAILED",
                    message=outcome.message,
                    document=outcome.document if outcome.document is not None else previous,
                    reindex=True,
                ),
                forced=forced,
            )
            if outcome.document is not None:
                versions.copy_frame_rows(tx, source.image_set_id, destination.image_set_id, frames)
                if promote:
                    _promote(tx, datastore_id, outcome.document, destination.image_set_id)
                    imagesets.set_primary(tx, destination.image_set_id, True)
            destination_created = destination.created_at
        versions.lock_current_version(
            tx,
            source,
            operation=versions.COPY_SOURCE,
            status="COPYING_WITH_READ_ONLY_ACCESS",
            now=now,
            settle_at=settle_at,
            settlement=Settlement(source.state, source.workflow_status, source.message, updated_at=source.updated_at),
        )
    runtime.image_set_locks.scheduled(settle_at)
    source_arn = image_set_arn(source.region, source.account_id, datastore_id, source.image_set_id)
    image_set_changed(destination, destination_number, LOCKED, "COPYING", sourceImageSetArn=source_arn)
    image_set_changed(source, source.version, LOCKED, "COPYING_WITH_READ_ONLY_ACCESS")
    return {
        "datastoreId": datastore_id,
        "sourceImageSetProperties": _properties(
            source, source.version, "COPYING_WITH_READ_ONLY_ACCESS", now, source.created_at
        ),
        "destinationImageSetProperties": _properties(
            destination, destination_number, "COPYING", now, destination_created
        ),
    }


def _promote(tx: sqlite3.Connection, datastore_id: str, document: dict[str, Any], image_set_id: str) -> None:
    """Make room in the primary hierarchy for a promoted image set (docs/primary-image-sets.md#promotion).

    The primary image sets holding its series stop being primary; a conflict with the Patient or Study
    elements of another series' primary image set refuses the promotion.
    """
    replaced, conflict = promotion_conflicts(tx, datastore_id, document, exclude=image_set_id)
    if conflict is not None:
        raise ValidationException(f"promoteToPrimary: {conflict}")
    for other in replaced:
        imagesets.set_primary(tx, other, False)


def delete_image_set(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    runtime = ctx.runtime
    with runtime.store.transaction() as tx:
        now = runtime.now()
        settle_at = now + runtime.config.imageset_lock_seconds
        current = _writable(ctx, tx, params["datastoreId"], params["imageSetId"])
        if versions.count_locks(tx, current.datastore_id, versions.DELETE) >= CONCURRENT_WRITES_QUOTA:
            # DeleteImageSet's model lists no ServiceQuotaExceededException; a concurrency limit throttles.
            raise ThrottlingException(
                f"Data store {current.datastore_id} already has {CONCURRENT_WRITES_QUOTA} DeleteImageSet requests "
                "in progress; retry when some have finished"
            )
        versions.lock_current_version(
            tx,
            current,
            operation=versions.DELETE,
            status="DELETING",
            now=now,
            settle_at=settle_at,
            settlement=Settlement(DELETED, DELETED),
        )
    runtime.image_set_locks.scheduled(settle_at)
    image_set_changed(current, current.version, LOCKED, "DELETING")
    return {
        "datastoreId": current.datastore_id,
        "imageSetId": current.image_set_id,
        "imageSetState": LOCKED,
        "imageSetWorkflowStatus": "DELETING",
    }
