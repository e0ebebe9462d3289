"""TagResource, UntagResource and ListTagsForResource on data store and image set ARNs.

The model's key and value patterns and lengths are checked by the protocol layer; this module adds
what the model cannot express. Choices where the guide is silent (docs/service.md#tagging):
- at most 50 tags per resource after a request is merged in (the guide's image set limit, applied to
  data stores too, as for AWS resources generally); more is a ValidationException;
- the `aws:` prefix is reserved in any letter case (AWS's general tagging rule; the model's pattern
  only excludes lowercase `aws:`);
- an ARN naming another account, region or partition, a DELETED data store, or an image set that
  does not exist is a ResourceNotFoundException; untagging a key the resource lacks is not an error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from ahi.emulator.arns import PARTITION, ResourceArn, parse_resource_arn
from ahi.emulator.context import RequestContext
from ahi.emulator.errors import ResourceNotFoundException, ValidationException
from ahi.emulator.store import datastores, imagesets
from ahi.emulator.store.tags import get_tags, put_tags, remove_tags

MAX_TAGS_PER_RESOURCE = 50
RESERVED_PREFIX = "aws:"


def check_tag_keys(keys: Iterable[str], member: str) -> None:
    """Refuse keys in the reserved `aws:` namespace, whatever their case."""
    for key in keys:
        if key[: len(RESERVED_PREFIX)].lower() == RESERVED_PREFIX:
            raise ValidationException(
                f"Value '{key}' at '{member}' failed to satisfy constraint: "
                f"tag keys must not start with the reserved prefix '{RESERVED_PREFIX}' (in any case)"
            )


def check_tag_count(existing: Mapping[str, str], new: Mapping[str, str]) -> None:
    """Refuse a request that would leave a resource with more than 50 tags."""
    total = len(existing.keys() | new.keys())
    if total > MAX_TAGS_PER_RESOURCE:
        raise ValidationException(
            f"Value at 'tags' failed to satisfy constraint: a resource can carry at most "
            f"{MAX_TAGS_PER_RESOURCE} tags, and this request would leave it with {total}"
        )


def _resource(ctx: RequestContext, conn: sqlite3.Connection, value: str) -> str:
    """The canonical ARN of an existing resource the caller can tag, or the matching error."""
    arn = parse_resource_arn(value)
    if not _exists(ctx, conn, arn):
        raise ResourceNotFoundException(f"Resource {value} does not exist")
    return str(arn)


def _exists(ctx: RequestContext, conn: sqlite3.Connection, arn: ResourceArn) -> bool:
    if (arn.partition, arn.account_id, arn.region) != (PARTITION, ctx.account_id, ctx.region):
        return False
    now = ctx.runtime.now()
    store = datastores.get_datastore(conn, arn.account_id, arn.region, arn.datastore_id, now)
    if store is None or store.status == "DELETED":
        return False
    return arn.image_set_id is None or imagesets.exists_for_arn(conn, arn)


def tag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    check_tag_keys(params["tags"], "tags.key")
    with ctx.runtime.store.transaction() as tx:
        arn = _resource(ctx, tx, params["resourceArn"])
        check_tag_count(get_tags(tx, arn), params["tags"])
        put_tags(tx, arn, params["tags"])
    return {}


def untag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    check_tag_keys(params["tagKeys"], "tagKeys.member")
    with ctx.runtime.store.transaction() as tx:
        arn = _resource(ctx, tx, params["resourceArn"])
        remove_tags(tx, arn, params["tagKeys"])
    return {}


def list_tags_for_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.runtime.store.read() as conn:
        arn = _resource(ctx, conn, params["resourceArn"])
        return {"tags": get_tags(conn, arn)}
