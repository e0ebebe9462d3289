"""Data stores through the service layer, against the local endpoint over HTTP."""

from __future__ import annotations

import time

import pytest

from ahi.services.datastores import CreateDatastoreRequest, DatastoreService
from ahi.services.errors import AwsCallError
from ahi.services.connection import Connection
from ahi.services.session import AwsSession


def wait_active(service: DatastoreService, datastore_id: str) -> None:
    deadline = time.monotonic() + 5
    while service.get(datastore_id).status != "ACTIVE":
        assert time.monotonic() < deadline, f"{datastore_id} never became ACTIVE"
        time.sleep(0.02)


def test_listing_reads_every_page(hub: Connection, aws: AwsSession) -> None:
    created = {hub.datastores.create(CreateDatastoreRequest(name=f"store-{i}"))[0] for i in range(7)}
    before = len(aws.call_log.records())
    listed = hub.datastores.list(page_size=3)
    pages = [r for r in aws.call_log.records()[before:] if r.operation == "ListDatastores"]
    assert {store.id for store in listed} == created
    assert len(pages) == 3
    assert all(store.name.startswith("store-") and store.arn and store.created_at for store in listed)


def test_detailed_listing_fills_key_and_format_once(hub: Connection, aws: AwsSession, kms) -> None:  # type: ignore[no-untyped-def]
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    plain, _ = hub.datastores.create(CreateDatastoreRequest(name="plain", storage_format="JPEG_2000_LOSSLESS"))
    keyed, _ = hub.datastores.create(CreateDatastoreRequest(name="keyed", kms_key_arn=key_arn))
    stores = {store.id: store for store in hub.datastores.list_detailed()}
    assert stores[plain].storage_format == "JPEG_2000_LOSSLESS" and stores[plain].kms_key_arn is None
    assert stores[keyed].storage_format == "HTJ2K" and stores[keyed].kms_key_arn == key_arn
    assert all(store.detailed for store in stores.values())
    before = len(aws.call_log.records())
    hub.datastores.list_detailed()
    assert [r.operation for r in aws.call_log.records()[before:]] == ["ListDatastores"]


def test_status_filter_is_sent_to_the_service(hub: Connection) -> None:
    datastore_id, status = hub.datastores.create(CreateDatastoreRequest(name="filtered"))
    assert status == "CREATING"
    wait_active(hub.datastores, datastore_id)
    assert [s.id for s in hub.datastores.list(status="ACTIVE")] == [datastore_id]
    assert hub.datastores.list(status="DELETED") == []


def test_create_with_tags_then_delete(hub: Connection) -> None:
    datastore_id, _ = hub.datastores.create(CreateDatastoreRequest(name="tagged", tags={"team": "imaging"}))
    wait_active(hub.datastores, datastore_id)
    store = hub.datastores.get(datastore_id)
    assert hub.tags.list(store.arn or "") == {"team": "imaging"}
    assert hub.datastores.delete(datastore_id) == "DELETING"


def test_invalid_input_is_refused_before_sending(hub: Connection, aws: AwsSession) -> None:
    request = CreateDatastoreRequest(name="bad name!", kms_key_arn="not-an-arn", tags={"aws:reserved": "x"})
    problems = {problem.field for problem in request.problems()}
    assert problems == {"datastoreName", "kmsKeyArn", "tag key 'aws:reserved'"}
    with pytest.raises(AwsCallError) as caught:
        hub.datastores.create(request)
    assert caught.value.code == "ValidationException" and "datastoreName" in caught.value.message
    assert aws.call_log.records() == []


def test_service_errors_become_typed_errors(hub: Connection) -> None:
    with pytest.raises(AwsCallError) as caught:
        hub.datastores.delete("0" * 32)
    assert (caught.value.operation, caught.value.code) == ("DeleteDatastore", "ResourceNotFoundException")
    assert caught.value.message
