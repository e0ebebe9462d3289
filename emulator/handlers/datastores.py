"""CreateDatastore, GetDatastore, ListDatastores and DeleteDatastore.

Choices where the guide is silent (docs/service.md#data-stores), made as the real service behaves as far
as public material shows:
- Status changes are derived from stored timestamps (CREATING -> ACTIVE after
  `datastore_transition_seconds`, DELETING -> DELETED likewise), so they survive a restart.
- DELETED data stores stay readable and listed (a ListDatastores example in the guide shows one).
- The quota of 10 "active" data stores per region counts CREATING and ACTIVE ones; DELETING,
  DELETED and CREATE_FAILED stores do not hold a slot.
- Data store names need not be unique. A request without `datastoreName` gets the data store id
  as its name, since every response must carry a name.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ahi.emulator import kms
from ahi.emulator.arns import datastore_arn
from ahi.emulator.context import RequestContext
from ahi.emulator.events import details as events
from ahi.emulator.errors import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
)
from ahi.emulator.handlers.tags import check_tag_count, check_tag_keys
from ahi.emulator.ids import new_id
from ahi.emulator.pagination import paginate
from ahi.emulator.store import datastores as rows
from ahi.emulator.store import imagesets, tokens
from ahi.emulator.store.datastores import Datastore
from ahi.emulator.store.tags import put_tags
from ahi.emulator.timestamps import to_datetime

DEFAULT_STORAGE_FORMAT = "HTJ2K"
QUOTA_STATUSES = ("CREATING", "ACTIVE")
DELETABLE_STATUSES = ("ACTIVE", "CREATE_FAILED")
LIST_PAGE_SIZE = 50


def _summary(store: Datastore) -> dict[str, Any]:
    return {
        "datastoreId": store.datastore_id,
        "datastoreName": store.name,
        "datastoreStatus": store.status,
        "datastoreArn": store.arn,
        "createdAt": to_datetime(store.created_at),
        "updatedAt": to_datetime(store.updated_at),
    }


def _properties(store: Datastore) -> dict[str, Any]:
    properties = _summary(store)
    properties.update(
        kmsKeyArn=store.kms_key_arn,
        lambdaAuthorizerArn=store.lambda_authorizer_arn,
        losslessStorageFormat=store.lossless_storage_format,
    )
    return {name: value for name, value in properties.items() if value is not None}


def _settles_as(kms_key_arn: str | None) -> str:
    """ACTIVE, or CREATE_FAILED when the customer key exists but cannot be used.

    The service checks the key with DescribeKey while answering (a key that does not exist in the
    ARN's own account and region is a ValidationException), then creates its KMS grants and data
    keys while the data store is CREATING. A disabled key, one pending deletion, or one that is not
    a symmetric encryption key makes that asynchronous step fail, so the data store ends up
    CREATE_FAILED rather than the request being refused.
    """
    if kms_key_arn is None:
        return "ACTIVE"
    key = kms.describe_key(kms_key_arn)
    if key is None:
        raise ValidationException(
            f"kmsKeyArn {kms_key_arn} does not name a KMS key in its account and region"
        )
    if key.state != "Enabled" or not key.is_symmetric_encryption_key:
        return "CREATE_FAILED"
    return "ACTIVE"


def load_datastore(ctx: RequestContext, conn: sqlite3.Connection, datastore_id: str) -> Datastore:
    """The caller's data store with this id, or ResourceNotFoundException."""
    store = rows.get_datastore(conn, ctx.account_id, ctx.region, datastore_id, ctx.runtime.now())
    if store is None:
        raise ResourceNotFoundException(f"Data store {datastore_id} does not exist")
    return store


def load_active_datastore(ctx: RequestContext, conn: sqlite3.Connection, datastore_id: str, rule: str) -> Datastore:
    """The caller's ACTIVE data store: ResourceNotFoundException when unknown or DELETED, else ConflictException.

    `rule` ends the conflict message, e.g. "only an ACTIVE data store can be searched".
    """
    store = load_datastore(ctx, conn, datastore_id)
    if store.status == "DELETED":
        raise ResourceNotFoundException(f"Data store {datastore_id} does not exist")
    if store.status != "ACTIVE":
        raise ConflictException(f"Data store {datastore_id} is {store.status}; {rule}")
    return store


def create_datastore(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    request = {
        "datastoreName": params.get("datastoreName"),
        "tags": params.get("tags") or {},
        "kmsKeyArn": params.get("kmsKeyArn"),
        "lambdaAuthorizerArn": params.get("lambdaAuthorizerArn"),
        "losslessStorageFormat": params.get("losslessStorageFormat") or DEFAULT_STORAGE_FORMAT,
    }
    token = params["clientToken"]
    check_tag_keys(request["tags"], "tags.key")
    check_tag_count({}, request["tags"])
    fingerprint = tokens.fingerprint(request)
    runtime = ctx.runtime
    if request["kmsKeyArn"] is not None:
        runtime.moto.ready()  # loading moto takes a moment: not inside the write transaction
    with runtime.store.transaction() as tx:
        now = runtime.now()
        earlier = tokens.find_token(tx, ctx.account_id, ctx.region, ctx.operation, token)
        if earlier is not None:
            earlier_fingerprint, datastore_id = earlier
            if earlier_fingerprint != fingerprint:
                raise ConflictException(
                    f"clientToken {token} was already used by a CreateDatastore request with different "
                    "parameters; use a new clientToken"
                )
            existing = load_datastore(ctx, tx, datastore_id)
            return {"datastoreId": existing.datastore_id, "datastoreStatus": existing.status}
        settles_as = _settles_as(request["kmsKeyArn"])
        quota = runtime.config.max_active_datastores
        if rows.count_datastores(tx, ctx.account_id, ctx.region, now, QUOTA_STATUSES) >= quota:
            raise ServiceQuotaExceededException(
                f"This account already has {quota} active data stores in {ctx.region}, the quota; "
                "delete one or request a quota increase"
            )
        datastore_id = new_id()
        rows.insert_datastore(
            tx,
            datastore_id=datastore_id,
            account_id=ctx.account_id,
            region=ctx.region,
            name=request["datastoreName"] or datastore_id,
            kms_key_arn=request["kmsKeyArn"],
            lambda_authorizer_arn=request["lambdaAuthorizerArn"],
            lossless_storage_format=request["losslessStorageFormat"],
            now=now,
            settles_as=settles_as,
            settles_at=now + runtime.config.datastore_transition_seconds,
        )
        put_tags(tx, datastore_arn(ctx.region, ctx.account_id, datastore_id), request["tags"])
        tokens.record_token(tx, ctx.account_id, ctx.region, ctx.operation, token, fingerprint, datastore_id, now)
    name = request["datastoreName"] or datastore_id
    events.datastore_changed(runtime, ctx.account_id, ctx.region, datastore_id, name, "CREATING")
    settles_at = now + runtime.config.datastore_transition_seconds
    events.datastore_changed(runtime, ctx.account_id, ctx.region, datastore_id, name, settles_as, at=settles_at)
    return {"datastoreId": datastore_id, "datastoreStatus": "CREATING"}


def get_datastore(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.runtime.store.read() as conn:
        store = load_datastore(ctx, conn, params["datastoreId"])
    return {"datastoreProperties": _properties(store)}


def list_datastores(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    status = params.get("datastoreStatus")
    with ctx.runtime.store.read() as conn:
        now = ctx.runtime.now()
        page, next_token = paginate(
            ctx,
            params,
            filters={"datastoreStatus": status},
            fetch=lambda after, limit: rows.list_datastores(
                conn,
                ctx.account_id,
                ctx.region,
                now,
                status=status,
                after_seq=_int_position(after),
                limit=limit,
            ),
            key=lambda store: [store.seq],
            default_size=LIST_PAGE_SIZE,
        )
    output: dict[str, Any] = {"datastoreSummaries": [_summary(store) for store in page]}
    if next_token is not None:
        output["nextToken"] = next_token
    return output


def _int_position(after: list[Any] | None) -> int | None:
    """The sequence number a ListDatastores token resumes after (tokens are signed, so well-formed)."""
    if after is None:
        return None
    if len(after) != 1 or not isinstance(after[0], int):
        raise ValidationException("nextToken is invalid for ListDatastores; start again without it")
    return after[0]


def delete_datastore(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    runtime = ctx.runtime
    with runtime.store.transaction() as tx:
        now = runtime.now()
        store = load_datastore(ctx, tx, params["datastoreId"])
        if store.status not in DELETABLE_STATUSES:
            raise ConflictException(
                f"Data store {store.datastore_id} is {store.status}; only an ACTIVE or CREATE_FAILED "
                "data store can be deleted"
            )
        remaining = imagesets.count_live(tx, store.datastore_id)
        if remaining:
            raise ConflictException(
                f"Data store {store.datastore_id} still holds {remaining} image set(s); delete every "
                "image set before deleting the data store"
            )
        rows.begin_transition(
            tx,
            store.datastore_id,
            status="DELETING",
            then="DELETED",
            at=now + runtime.config.datastore_transition_seconds,
            now=now,
        )
    deleted_at = now + runtime.config.datastore_transition_seconds
    events.datastore_changed(runtime, ctx.account_id, ctx.region, store.datastore_id, store.name, "DELETING")
    events.datastore_changed(runtime, ctx.account_id, ctx.region, store.datastore_id, store.name, "DELETED", at=deleted_at)
    return {"datastoreId": store.datastore_id, "datastoreStatus": "DELETING"}
