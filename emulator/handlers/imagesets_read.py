"""GetImageSet, ListImageSetVersions, GetImageSetMetadata and GetImageFrame.

Choices where the guide is silent (docs/service.md#reads):
- GetImageSet and ListImageSetVersions describe DELETED image sets too; their metadata and frames are
  gone (ResourceNotFoundException);
- reading the metadata of a version that is still being written (LOCKED, document not ready) is a
  ConflictException, as the real service answers while an image set's metadata is still processing;
- ListImageSetVersions lists newest version first, as every example in the guide does;
- GetImageFrame serves the stored frame unchanged, with the content type of its stored syntax as
  botocore's model documents it (image/jph for HTJ2K, image/jpeg, image/j2c, ...), the newer contract
  rather than the `application/octet-stream` older captures show (docs/stored-syntaxes.md); an Accept
  header that does not admit that type is a 406 NotAcceptableException, one that cannot be parsed a
  BadRequestException (docs/stored-syntaxes.md#content-negotiation).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ahi.emulator.arns import image_set_arn
from ahi.emulator.context import RequestContext
from ahi.emulator.dicom.stored_syntaxes import content_type_of
from ahi.emulator.errors import ConflictException, ResourceNotFoundException
from ahi.emulator.handlers.datastores import load_datastore
from ahi.emulator.pagination import paginate
from ahi.emulator.protocol.accept import require_acceptable
from ahi.emulator.protocol.serializer import BlobStream
from ahi.emulator.store import imagesets
from ahi.emulator.store.imagesets import DELETED, ImageSetVersion
from ahi.emulator.timestamps import to_datetime

LIST_PAGE_SIZE = 50


def _version_number(params: dict[str, Any]) -> int | None:
    raw = params.get("versionId")
    return None if raw is None else int(raw)


def load_version(ctx: RequestContext, conn: sqlite3.Connection, params: dict[str, Any]) -> ImageSetVersion:
    """The requested (or latest) version of the caller's image set, or ResourceNotFoundException."""
    datastore_id, image_set_id = params["datastoreId"], params["imageSetId"]
    load_datastore(ctx, conn, datastore_id)
    version = _version_number(params)
    found = imagesets.get_version(conn, ctx.account_id, ctx.region, datastore_id, image_set_id, version)
    if found is not None:
        return found
    if version is not None and imagesets.image_set_known(conn, ctx.account_id, ctx.region, datastore_id, image_set_id):
        raise ResourceNotFoundException(f"Image set {image_set_id} has no version {version}")
    raise ResourceNotFoundException(f"Image set {image_set_id} does not exist in data store {datastore_id}")


def _readable(version: ImageSetVersion) -> None:
    if version.state == DELETED:
        raise ResourceNotFoundException(f"Image set {version.image_set_id} has been deleted")


def _common(version: ImageSetVersion) -> dict[str, Any]:
    return {
        "imageSetId": version.image_set_id,
        "versionId": str(version.version),
        "imageSetState": version.state,
        "createdAt": to_datetime(version.created_at),
        "updatedAt": to_datetime(version.updated_at),
        "deletedAt": to_datetime(version.deleted_at),
        "message": version.message,
        "overrides": None if version.forced is None else {"forced": version.forced},
        "isPrimary": version.is_primary,
    }


def get_image_set(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.runtime.store.read() as conn:
        version = load_version(ctx, conn, params)
    output = _common(version)
    output.update(
        datastoreId=version.datastore_id,
        imageSetWorkflowStatus=version.workflow_status,
        imageSetArn=image_set_arn(version.region, version.account_id, version.datastore_id, version.image_set_id),
    )
    return {name: value for name, value in output.items() if value is not None}


def list_image_set_versions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.runtime.store.read() as conn:
        latest = load_version(ctx, conn, {**params, "versionId": None})
        page, next_token = paginate(
            ctx,
            params,
            filters={"datastoreId": params["datastoreId"], "imageSetId": params["imageSetId"]},
            fetch=lambda after, limit: imagesets.list_versions(
                conn, latest.image_set_id, before_version=None if after is None else int(after[0]), limit=limit
            ),
            key=lambda version: [version.version],
            default_size=LIST_PAGE_SIZE,
        )
    properties = []
    for version in page:
        item = _common(version)
        # The model spells this member with a capital I in ImageSetProperties (and only there).
        item["ImageSetWorkflowStatus"] = version.workflow_status
        properties.append({name: value for name, value in item.items() if value is not None})
    output: dict[str, Any] = {"imageSetPropertiesList": properties}
    if next_token is not None:
        output["nextToken"] = next_token
    return output


def get_image_set_metadata(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.runtime.store.read() as conn:
        version = load_version(ctx, conn, params)
        _readable(version)
        blob = imagesets.read_metadata(conn, version.image_set_id, version.version)
    if blob is None:
        raise ConflictException(
            f"Image set {version.image_set_id} version {version.version} is {version.state} "
            f"({version.workflow_status}); its metadata is still being written, try again shortly"
        )
    return {"imageSetMetadataBlob": blob, "contentType": "application/json", "contentEncoding": "gzip"}


def get_image_frame(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    frame_id = params["imageFrameInformation"]["imageFrameId"]
    with ctx.runtime.store.read() as conn:
        version = load_version(ctx, conn, {**params, "versionId": None})
        _readable(version)
        frame = imagesets.find_frame(conn, version.image_set_id, frame_id)
    if frame is None:
        raise ResourceNotFoundException(f"Image frame {frame_id} does not exist in image set {version.image_set_id}")
    content_type = content_type_of(frame.path)
    require_acceptable(ctx.accept, content_type)
    data = ctx.runtime.frames.read(frame.path)
    return {"imageFrameBlob": BlobStream([data], len(data)), "contentType": content_type}
