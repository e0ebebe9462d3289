"""Storage tiers (boto3 over HTTP): which calls touch an image set, moves with the endpoint clock advanced.

The clock is moved the documented way, `POST /_ahi/clock` (docs/storage-tiers.md#the-endpoint-clock),
and once through `ahi local --clock-offset`'s setting on a restart.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from image_set_world import World, import_world, wait_until_active

from ahi.emulator.server import LocalEndpoint

DAY = 86_400
ARCHIVE = "ARCHIVE_INSTANT_ACCESS"
FREQUENT = "FREQUENT_ACCESS"


def clock(endpoint: LocalEndpoint, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The admin call: GET the clock, or POST a change; its JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{endpoint.url}/_ahi/clock", data=data, method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def tier(mi: Any, world: World, key: str) -> tuple[str, dt.datetime]:
    got = mi.get_image_set(datastoreId=world.datastore_id, imageSetId=world.image_sets[key])
    return got["storageTier"], got["lastAccessedAt"]


def searched(mi: Any, world: World) -> dict[str, tuple[str, dt.datetime]]:
    summaries = mi.search_image_sets(datastoreId=world.datastore_id, searchCriteria={})["imageSetsMetadataSummaries"]
    keys = {image_set_id: key for key, image_set_id in world.image_sets.items()}
    return {keys[item["imageSetId"]]: (item["storageTier"], item["lastAccessedAt"]) for item in summaries}


def first_frame(mi: Any, world: World, key: str) -> str:
    blob = mi.get_image_set_metadata(datastoreId=world.datastore_id, imageSetId=world.image_sets[key])
    document = json.loads(gzip.decompress(blob["imageSetMetadataBlob"].read()))
    series = next(iter(document["Study"]["Series"].values()))
    return str(next(iter(series["Instances"].values()))["ImageFrames"][0]["ID"])


@pytest.fixture
def world(mi: Any, s3: Any) -> World:
    return import_world(mi, s3)


def test_image_sets_archive_after_30_days_untouched_and_return_on_a_read(
    endpoint: LocalEndpoint, mi: Any, world: World
) -> None:
    imported = mi.get_image_set(datastoreId=world.datastore_id, imageSetId=world.ct)
    assert imported["storageTier"] == FREQUENT
    assert imported["lastAccessedAt"] >= imported["createdAt"], "the import is a touch"
    assert {value[0] for value in searched(mi, world).values()} == {FREQUENT}
    frame_id = first_frame(mi, world, "ct")  # a touch of "ct" now, before the clock moves

    clock(endpoint, {"advanceSeconds": 29 * DAY})
    assert tier(mi, world, "ct")[0] == FREQUENT
    assert clock(endpoint, {"advanceSeconds": DAY + 1})["offsetSeconds"] == 30 * DAY + 1
    assert {key: value[0] for key, value in searched(mi, world).items()} == {"ct": ARCHIVE, "us": ARCHIVE, "ct2": ARCHIVE}

    # Reading properties, searching and listing versions are no touches: the tier stays.
    for _ in range(2):
        mi.get_image_set(datastoreId=world.datastore_id, imageSetId=world.ct)
        mi.list_image_set_versions(datastoreId=world.datastore_id, imageSetId=world.ct)
        mi.search_image_sets(datastoreId=world.datastore_id, searchCriteria={})
    assert tier(mi, world, "ct")[0] == ARCHIVE

    before = dt.datetime.fromisoformat(clock(endpoint)["now"].replace("Z", "+00:00"))
    mi.get_image_frame(
        datastoreId=world.datastore_id, imageSetId=world.ct, imageFrameInformation={"imageFrameId": frame_id}
    )["imageFrameBlob"].read()
    storage_tier, last_accessed = tier(mi, world, "ct")
    assert storage_tier == FREQUENT, "GetImageFrame is a touch"
    assert last_accessed >= before, "lastAccessedAt reads the advanced clock"
    assert searched(mi, world)["ct"] == (FREQUENT, last_accessed)
    assert tier(mi, world, "us")[0] == ARCHIVE, "only the image set read moves back"

    mi.get_image_set_metadata(datastoreId=world.datastore_id, imageSetId=world.image_sets["us"])
    assert tier(mi, world, "us")[0] == FREQUENT, "GetImageSetMetadata is a touch"


def test_copy_and_update_touch_the_image_sets_they_write(endpoint: LocalEndpoint, mi: Any, world: World) -> None:
    clock(endpoint, {"offsetSeconds": 31 * DAY})
    assert tier(mi, world, "ct")[0] == ARCHIVE
    copied = mi.copy_image_set(
        datastoreId=world.datastore_id,
        sourceImageSetId=world.ct,
        copyImageSetInformation={"sourceImageSet": {"latestVersionId": "1"}},
    )
    copy_id = copied["destinationImageSetProperties"]["imageSetId"]
    wait_until_active(mi, world.datastore_id, copy_id)
    wait_until_active(mi, world.datastore_id, world.ct)
    assert tier(mi, world, "ct")[0] == FREQUENT, "the copy's source is touched"
    assert mi.get_image_set(datastoreId=world.datastore_id, imageSetId=copy_id)["storageTier"] == FREQUENT

    assert tier(mi, world, "ct2")[0] == ARCHIVE
    mi.update_image_set_metadata(
        datastoreId=world.datastore_id,
        imageSetId=world.image_sets["ct2"],
        latestVersionId="1",
        updateImageSetMetadataUpdates={
            "DICOMUpdates": {"updatableAttributes": json.dumps({"SchemaVersion": 1.1, "Patient": {"DICOM": {"PatientName": "Tier^Test"}}}).encode()}
        },
    )
    wait_until_active(mi, world.datastore_id, world.image_sets["ct2"])
    assert tier(mi, world, "ct2")[0] == FREQUENT, "an update is a touch"

    assert (tier(mi, world, "ct")[0], tier(mi, world, "us")[0]) == (FREQUENT, ARCHIVE)
    clock(endpoint, {"advanceSeconds": 31 * DAY})
    latest = wait_until_active(mi, world.datastore_id, world.ct)["versionId"]
    mi.update_image_set_metadata(
        datastoreId=world.datastore_id,
        imageSetId=world.ct,
        latestVersionId=latest,
        includeStudyImageSets=True,
        updateImageSetMetadataUpdates={
            "DICOMUpdates": {"updatableAttributes": json.dumps({"SchemaVersion": 1.1, "Study": {"DICOM": {"StudyDescription": "Tiers"}}}).encode()}
        },
    )
    wait_until_active(mi, world.datastore_id, world.ct)
    wait_until_active(mi, world.datastore_id, world.image_sets["us"])
    assert tier(mi, world, "us")[0] == FREQUENT, "includeStudyImageSets touches every image set it updates"

    clock(endpoint, {"advanceSeconds": 30 * DAY})
    summaries = mi.search_image_sets(datastoreId=world.datastore_id, searchCriteria={})["imageSetsMetadataSummaries"]
    assert len(summaries) == 4
    assert {item["storageTier"] for item in summaries} == {ARCHIVE}


def test_an_import_is_a_touch_whatever_the_clock_says(endpoint: LocalEndpoint, mi: Any, s3: Any) -> None:
    clock(endpoint, {"offsetSeconds": 90 * DAY})
    world = import_world(mi, s3)
    now = dt.datetime.fromisoformat(clock(endpoint)["now"].replace("Z", "+00:00"))
    for storage_tier, last_accessed in searched(mi, world).values():
        assert storage_tier == FREQUENT
        assert abs((last_accessed - now).total_seconds()) < 3600, "the touch is on the advanced clock"


def test_the_clock_offset_setting_holds_from_the_start_and_nothing_else_moves(
    endpoint: LocalEndpoint, restart_endpoint: Callable[[], LocalEndpoint], make_client: Any, mi: Any, world: World
) -> None:
    created = mi.get_image_set(datastoreId=world.datastore_id, imageSetId=world.ct)["createdAt"]
    endpoint.config.clock_offset_seconds = 45 * DAY  # what `ahi local --clock-offset 45d` sets
    restarted = restart_endpoint()
    mi = make_client("medical-imaging", endpoint_url=restarted.url)
    assert clock(restarted)["offsetSeconds"] == 45 * DAY
    got = mi.get_image_set(datastoreId=world.datastore_id, imageSetId=world.ct)
    assert got["storageTier"] == ARCHIVE
    assert got["createdAt"] == created, "stored times are not moved"
    summaries = mi.search_image_sets(
        datastoreId=world.datastore_id,
        searchCriteria={"filters": [{"operator": "BETWEEN", "values": [{"createdAt": created - dt.timedelta(seconds=60)}, {"createdAt": created + dt.timedelta(seconds=60)}]}]},
    )["imageSetsMetadataSummaries"]
    assert len(summaries) == 3, "search by createdAt still reads real times"

    endpoint.config.clock_offset_seconds = 0.0
    again = restart_endpoint()
    assert clock(again)["offsetSeconds"] == 0, "an offset lasts for the run that set it"


def test_the_admin_call_refuses_bad_changes_clearly(endpoint: LocalEndpoint) -> None:
    def refused(body: dict[str, Any]) -> tuple[int, str]:
        with pytest.raises(urllib.error.HTTPError) as caught:
            clock(endpoint, body)
        return caught.value.code, json.loads(caught.value.read())["message"]

    assert refused({"advanceSeconds": -1}) == (400, "the clock offset would be -1 s; it must stay between 0 and 3.1536e+09")
    assert refused({"advanceSeconds": "1d"})[1] == "advanceSeconds must be a number of seconds"
    assert refused({"advanceSeconds": 1, "offsetSeconds": 2})[0] == 400
    assert clock(endpoint)["offsetSeconds"] == 0


def test_the_admin_call_answers_loopback_clients_only(endpoint: LocalEndpoint) -> None:
    from ahi.emulator.admin import AdminApp

    statuses: list[str] = []
    environ = {"REMOTE_ADDR": "192.0.2.7", "PATH_INFO": "/_ahi/clock", "REQUEST_METHOD": "GET"}
    body = b"".join(AdminApp(endpoint.runtime)(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["403 Forbidden"]
    assert json.loads(body)["message"] == "admin calls are answered to loopback clients only"


def test_a_state_directory_from_before_tiers_counts_the_last_update_as_the_last_touch(
    endpoint: LocalEndpoint, make_client: Any, mi: Any, world: World
) -> None:
    import sqlite3

    endpoint.stop()
    database = sqlite3.connect(endpoint.config.state_dir / "state.sqlite3")
    with database:  # back to the schema before migration 0012
        database.execute("DROP TABLE image_set_access")
        database.execute("DROP TABLE endpoint_clock")
        database.execute("DELETE FROM schema_version WHERE version = 12")
    database.close()
    endpoint.start()
    mi = make_client("medical-imaging", endpoint_url=endpoint.url)
    got = mi.get_image_set(datastoreId=world.datastore_id, imageSetId=world.ct)
    assert (got["storageTier"], got["lastAccessedAt"]) == (FREQUENT, got["updatedAt"])
    clock(endpoint, {"advanceSeconds": 30 * DAY})
    assert mi.get_image_set(datastoreId=world.datastore_id, imageSetId=world.ct)["storageTier"] == ARCHIVE
