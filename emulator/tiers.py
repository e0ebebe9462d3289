"""Storage tiers of image sets: which calls touch an image set and which tier it is in (docs/storage-tiers.md).

The tier is not stored: it follows from the last touch and the tiering clock whenever a response shows
it, so an image set moves to Archive Instant Access exactly when 30 days without a touch have passed,
and back with the next touch, with no background work.

Which calls touch and which responses show the tier is declared here once (`after_call`, run by the app
after every successful medical-imaging call), so the handlers stay about their own operation; imports
touch inside their commit (emulator/imports/runner.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from ahi.emulator.context import RequestContext
from ahi.emulator.store import access
from ahi.emulator.store.db import Store
from ahi.emulator.store.imagesets import primary_study_image_sets
from ahi.emulator.timestamps import to_datetime

FREQUENT_ACCESS = "FREQUENT_ACCESS"
ARCHIVE_INSTANT_ACCESS = "ARCHIVE_INSTANT_ACCESS"
#: docs/storage-tiers.md#how-an-image-set-moves: 30 consecutive days without a touch.
ARCHIVE_AFTER_SECONDS = 30 * 86_400.0
#: docs/storage-tiers.md#what-the-endpoint-records: a read touch this close to the recorded one is not
#: written, so a viewer fetching hundreds of frames takes the store's write lock about once a second.
READ_TOUCH_RESOLUTION_SECONDS = 1.0


def tier_of(last_accessed_at: float, tiering_now: float) -> str:
    """The tier of an image set last touched at `last_accessed_at`, both times on the tiering clock."""
    return ARCHIVE_INSTANT_ACCESS if tiering_now - last_accessed_at >= ARCHIVE_AFTER_SECONDS else FREQUENT_ACCESS


def tier_fields(conn: sqlite3.Connection, updated_at: Mapping[str, float], real_now: float) -> dict[str, dict[str, Any]]:
    """`storageTier` and `lastAccessedAt` of each image set (id -> its updatedAt, the fallback for one never touched)."""
    offset = access.clock_offset(conn)
    touched = access.last_accessed(conn, updated_at)
    fields: dict[str, dict[str, Any]] = {}
    for image_set_id, fallback in updated_at.items():
        last = touched.get(image_set_id, fallback)
        fields[image_set_id] = {
            "storageTier": tier_of(last, real_now + offset),
            "lastAccessedAt": to_datetime(last),
        }
    return fields


def touch(tx: sqlite3.Connection, image_set_ids: Iterable[str], real_now: float) -> None:
    """Touch image sets inside the caller's write transaction (imports, copies, updates)."""
    access.touch(tx, image_set_ids, real_now)


def touch_on_read(store: Store, image_set_id: str, real_now: float) -> None:
    """Touch an image set whose metadata or frame was read, unless a touch was recorded within the resolution."""
    with store.read() as conn:
        recorded = access.last_accessed(conn, [image_set_id]).get(image_set_id)
        offset = access.clock_offset(conn)
    if recorded is not None and real_now + offset - recorded < READ_TOUCH_RESOLUTION_SECONDS:
        return
    with store.transaction() as tx:
        access.touch(tx, [image_set_id], real_now)


#: docs/storage-tiers.md#what-counts-as-a-touch: calls that read an image set's metadata or pixels.
READ_TOUCHES = frozenset({"GetImageSetMetadata", "GetImageFrame"})
#: Calls that write image sets (StartDICOMImportJob touches in the import's own commit).
WRITE_TOUCHES = frozenset({"UpdateImageSetMetadata", "CopyImageSet"})


def after_call(ctx: RequestContext, operation: str, params: dict[str, Any], output: dict[str, Any]) -> None:
    """Record the touches a successful call made, and add `storageTier`/`lastAccessedAt` where its response has them."""
    runtime = ctx.runtime
    if operation in READ_TOUCHES:
        touch_on_read(runtime.store, params["imageSetId"], runtime.now())
    elif operation in WRITE_TOUCHES:
        with runtime.store.transaction() as tx:
            touch(tx, _written(tx, operation, params, output), runtime.now())
    elif operation == "GetImageSet" and output.get("imageSetState") != "DELETED":
        _describe(ctx, [output])
    elif operation == "SearchImageSets":
        _describe(ctx, output.get("imageSetsMetadataSummaries") or [])


def _written(tx: sqlite3.Connection, operation: str, params: dict[str, Any], output: dict[str, Any]) -> list[str]:
    """The image sets an update or a copy wrote to (a copy also read its source: a touch too)."""
    if operation == "CopyImageSet":
        return [params["sourceImageSetId"], output["destinationImageSetProperties"]["imageSetId"]]
    image_set_id = params["imageSetId"]
    written = [image_set_id]
    if params.get("includeStudyImageSets"):
        found = access.study_of(tx, image_set_id)
        if found is not None:
            written += primary_study_image_sets(tx, found[0], found[1], image_set_id)
    return written


def _describe(ctx: RequestContext, items: list[dict[str, Any]]) -> None:
    """Add the tier fields to GetImageSet's output or to search summaries, in place."""
    # Both times are optional in the model; an item with neither has no fallback touch and is left as it is.
    updated = {
        item["imageSetId"]: stamp.timestamp()
        for item in items
        if (stamp := item.get("updatedAt") or item.get("createdAt")) is not None
    }
    if not updated:
        return
    with ctx.runtime.store.read() as conn:
        fields = tier_fields(conn, updated, ctx.runtime.now())
    for item in items:
        item.update(fields.get(item["imageSetId"], {}))
