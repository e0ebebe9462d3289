"""ListImageSetVersions and GetImageSet across versions; locks that outlive a restart or a broken settlement."""

from __future__ import annotations

import time
from typing import Any

import pytest
from imageset_flows import copy_to_new, import_ct, metadata, new_datastore, update, wait_unlocked

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint


def versions_of(mi: Any, datastore_id: str, image_set_id: str, **extra: Any) -> dict[str, Any]:
    return dict(mi.list_image_set_versions(datastoreId=datastore_id, imageSetId=image_set_id, **extra))


def test_every_version_with_state_status_message_and_timestamps(mi: Any, s3: Any) -> None:
    datastore_id = new_datastore(mi)
    image_set_id = import_ct(mi, s3, datastore_id)
    copy_id = copy_to_new(mi, datastore_id, image_set_id)
    update(mi, datastore_id, copy_id, "1", updatable={"Patient": {"DICOM": {"PatientName": "Garcia^Gloria"}}})
    wait_unlocked(mi, datastore_id, copy_id)
    mi.copy_image_set(
        datastoreId=datastore_id,
        sourceImageSetId=image_set_id,
        copyImageSetInformation={
            "sourceImageSet": {"latestVersionId": "1"},
            "destinationImageSet": {"imageSetId": copy_id, "latestVersionId": "2"},
        },
    )
    wait_unlocked(mi, datastore_id, copy_id)
    update(mi, datastore_id, copy_id, "3", updatable={"Study": {"DICOM": {"StudyDescription": "CT CHEST"}}})
    wait_unlocked(mi, datastore_id, copy_id)

    listed = versions_of(mi, datastore_id, copy_id)["imageSetPropertiesList"]
    assert [(v["versionId"], v["imageSetState"], v["ImageSetWorkflowStatus"]) for v in listed] == [
        ("4", "ACTIVE", "UPDATED"),
        ("3", "ACTIVE", "COPY_FAILED"),
        ("2", "ACTIVE", "UPDATED"),
        ("1", "ACTIVE", "COPIED"),
    ]
    assert [("message" in v) for v in listed] == [False, True, False, False]
    assert listed[1]["message"].startswith("INVALID_REQUEST: Series of SourceImageSet and DestinationImageSet")
    assert len({v["createdAt"] for v in listed}) == 1, "createdAt is the image set's, the same on every version"
    updated = [v["updatedAt"] for v in reversed(listed)]
    assert updated == sorted(updated) and len(set(updated)) == 4
    assert all(v["imageSetId"] == copy_id for v in listed)

    third = mi.get_image_set(datastoreId=datastore_id, imageSetId=copy_id, versionId="3")
    assert (third["versionId"], third["imageSetWorkflowStatus"], third["message"]) == ("3", "COPY_FAILED", listed[1]["message"])
    assert metadata(mi, datastore_id, copy_id, versionId="2")["Patient"]["DICOM"]["PatientName"] == "Garcia^Gloria"
    assert metadata(mi, datastore_id, copy_id, versionId="1")["Patient"]["DICOM"]["PatientName"] == "Phantom^Shepp^Logan"

    first_page = versions_of(mi, datastore_id, copy_id, maxResults=3)
    assert [v["versionId"] for v in first_page["imageSetPropertiesList"]] == ["4", "3", "2"]
    rest = versions_of(mi, datastore_id, copy_id, maxResults=3, nextToken=first_page["nextToken"])
    assert [v["versionId"] for v in rest["imageSetPropertiesList"]] == ["1"] and "nextToken" not in rest
    pages = mi.get_paginator("list_image_set_versions").paginate(
        datastoreId=datastore_id, imageSetId=copy_id, PaginationConfig={"PageSize": 1}
    )
    assert [v["versionId"] for page in pages for v in page["imageSetPropertiesList"]] == ["4", "3", "2", "1"]


def test_a_lock_pending_at_restart_completes_afterwards(
    endpoint_config: EndpointConfig, endpoint: LocalEndpoint, make_client: Any, mi: Any, s3: Any
) -> None:
    datastore_id = new_datastore(mi)
    image_set_id = import_ct(mi, s3, datastore_id)
    endpoint_config.imageset_lock_seconds = 1.0
    update(mi, datastore_id, image_set_id, "1", updatable={"Patient": {"DICOM": {"PatientName": "After^Restart"}}})
    endpoint.restart()
    client = make_client("medical-imaging", endpoint_url=endpoint.url)
    assert client.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetState"] == "LOCKED"
    done = wait_unlocked(client, datastore_id, image_set_id)
    assert (done["versionId"], done["imageSetWorkflowStatus"]) == ("2", "UPDATED")
    assert metadata(client, datastore_id, image_set_id)["Patient"]["DICOM"]["PatientName"] == "After^Restart"


def test_locks_that_came_due_while_stopped_settle_at_start(
    endpoint_config: EndpointConfig, endpoint: LocalEndpoint, make_client: Any, mi: Any, s3: Any
) -> None:
    datastore_id = new_datastore(mi)
    source_id = import_ct(mi, s3, datastore_id)
    target_id = import_ct(mi, s3, datastore_id, series_key="other")
    endpoint_config.imageset_lock_seconds = 0.2
    update(mi, datastore_id, target_id, "1", updatable={"Study": {"DICOM": {"StudyDescription": "Settled"}}})
    copy_id = mi.copy_image_set(
        datastoreId=datastore_id,
        sourceImageSetId=source_id,
        copyImageSetInformation={"sourceImageSet": {"latestVersionId": "1"}},
    )["destinationImageSetProperties"]["imageSetId"]
    endpoint.stop()
    time.sleep(0.3)
    endpoint.start()
    client = make_client("medical-imaging", endpoint_url=endpoint.url)
    states = {
        image_set_id: client.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)
        for image_set_id in (source_id, target_id, copy_id)
    }
    assert {key: (value["imageSetState"], value["imageSetWorkflowStatus"]) for key, value in states.items()} == {
        source_id: ("ACTIVE", "CREATED"),
        target_id: ("ACTIVE", "UPDATED"),
        copy_id: ("ACTIVE", "COPIED"),
    }
    assert metadata(client, datastore_id, copy_id)["ImageSetID"] == copy_id


def test_a_settlement_that_cannot_apply_fails_instead_of_staying_locked(
    endpoint_config: EndpointConfig, endpoint: LocalEndpoint, mi: Any, s3: Any
) -> None:
    datastore_id = new_datastore(mi)
    image_set_id = import_ct(mi, s3, datastore_id)
    endpoint_config.imageset_lock_seconds = 60.0
    update(mi, datastore_id, image_set_id, "1", updatable={"Patient": {"DICOM": {"PatientName": "Never^Applied"}}})
    runtime = endpoint.runtime
    assert runtime is not None
    with runtime.store.transaction() as tx:
        tx.execute(
            "UPDATE image_set_locks SET metadata = ?, settle_at = ? WHERE image_set_id = ?",
            (b"not gzip", runtime.now(), image_set_id),
        )
    runtime.image_set_locks.scheduled(runtime.now())
    failed = wait_unlocked(mi, datastore_id, image_set_id)
    assert (failed["versionId"], failed["imageSetState"], failed["imageSetWorkflowStatus"]) == ("2", "ACTIVE", "UPDATE_FAILED")
    assert failed["message"].startswith("INTERNAL_ERROR")
    assert metadata(mi, datastore_id, image_set_id)["Patient"]["DICOM"]["PatientName"] == "Phantom^Shepp^Logan"
    with runtime.store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM image_set_locks").fetchone()[0] == 0


@pytest.mark.parametrize("seconds", [0.0, 0.25])
def test_lock_time_is_configurable(endpoint_config: EndpointConfig, mi: Any, s3: Any, seconds: float) -> None:
    datastore_id = new_datastore(mi)
    image_set_id = import_ct(mi, s3, datastore_id)
    endpoint_config.imageset_lock_seconds = seconds
    response = update(mi, datastore_id, image_set_id, "1", updatable={"Patient": {"DICOM": {"PatientName": "Quick^Lock"}}})
    done = wait_unlocked(mi, datastore_id, image_set_id)
    assert done["imageSetWorkflowStatus"] == "UPDATED"
    locked_for = (done["updatedAt"] - response["updatedAt"]).total_seconds()
    assert locked_for == pytest.approx(seconds, abs=0.002)
