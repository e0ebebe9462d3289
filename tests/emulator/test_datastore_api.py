"""CreateDatastore, GetDatastore, ListDatastores and DeleteDatastore with boto3 over HTTP."""

from __future__ import annotations

import datetime as dt
import re
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from datastore_waits import ACCOUNT, active_datastore, error_of, wait_for_status

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.emulator.store import imagesets

LAMBDA_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:authorizer"


@pytest.fixture
def slow_creation(endpoint_config: EndpointConfig) -> None:
    """A data store stays CREATING for a second: a get right after the create must see it, on a loaded machine too."""
    endpoint_config.datastore_transition_seconds = 1.0


def test_create_then_active_with_every_property(slow_creation: None, mi: Any) -> None:
    before = dt.datetime.now(dt.timezone.utc)
    created = mi.create_datastore(datastoreName="my-store_1.a/b#c")
    assert created["datastoreStatus"] == "CREATING"
    datastore_id = created["datastoreId"]
    assert re.fullmatch(r"[0-9a-f]{32}", datastore_id)
    creating = mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]
    assert creating["datastoreStatus"] == "CREATING"
    active = wait_for_status(mi, datastore_id, "ACTIVE")
    assert active["datastoreName"] == "my-store_1.a/b#c"
    assert active["datastoreArn"] == f"arn:aws:medical-imaging:us-east-1:{ACCOUNT}:datastore/{datastore_id}"
    assert active["losslessStorageFormat"] == "HTJ2K"
    assert "kmsKeyArn" not in active and "lambdaAuthorizerArn" not in active
    assert active["createdAt"] == creating["createdAt"]
    assert before - dt.timedelta(seconds=1) <= active["createdAt"] < active["updatedAt"]


def test_optional_members_are_stored_and_echoed(mi: Any) -> None:
    properties = active_datastore(
        mi, losslessStorageFormat="JPEG_2000_LOSSLESS", lambdaAuthorizerArn=LAMBDA_ARN
    )
    assert properties["losslessStorageFormat"] == "JPEG_2000_LOSSLESS"
    assert properties["lambdaAuthorizerArn"] == LAMBDA_ARN


def test_a_nameless_data_store_is_named_by_its_id(mi: Any) -> None:
    datastore_id = mi.create_datastore()["datastoreId"]
    assert mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreName"] == datastore_id


def test_arn_region_follows_the_credential_scope(make_client: Any) -> None:
    west = make_client("medical-imaging", region_name="eu-west-1")
    properties = active_datastore(west)
    assert properties["datastoreArn"].startswith(f"arn:aws:medical-imaging:eu-west-1:{ACCOUNT}:datastore/")
    east = make_client("medical-imaging")
    with pytest.raises(ClientError) as caught:
        east.get_datastore(datastoreId=properties["datastoreId"])
    assert error_of(caught)[:2] == ("ResourceNotFoundException", 404)
    assert east.list_datastores()["datastoreSummaries"] == []


def test_same_client_token_and_input_returns_the_same_data_store(mi: Any) -> None:
    first = mi.create_datastore(datastoreName="idem", clientToken="token-1", tags={"k": "v"})
    again = mi.create_datastore(datastoreName="idem", clientToken="token-1", tags={"k": "v"})
    assert again["datastoreId"] == first["datastoreId"]
    explicit_default = mi.create_datastore(
        datastoreName="idem", clientToken="token-1", tags={"k": "v"}, losslessStorageFormat="HTJ2K"
    )
    assert explicit_default["datastoreId"] == first["datastoreId"]
    wait_for_status(mi, first["datastoreId"], "ACTIVE")
    replay = mi.create_datastore(datastoreName="idem", clientToken="token-1", tags={"k": "v"})
    assert replay == {**replay, "datastoreId": first["datastoreId"], "datastoreStatus": "ACTIVE"}
    assert len(mi.list_datastores()["datastoreSummaries"]) == 1
    other = mi.create_datastore(datastoreName="idem", clientToken="token-2", tags={"k": "v"})
    assert other["datastoreId"] != first["datastoreId"]


@pytest.mark.parametrize(
    "changed",
    [
        {"datastoreName": "other"},
        {"tags": {"k": "other"}},
        {"losslessStorageFormat": "JPEG_2000_LOSSLESS"},
        {"lambdaAuthorizerArn": LAMBDA_ARN},
    ],
)
def test_same_client_token_with_different_input_is_a_conflict(mi: Any, changed: dict[str, Any]) -> None:
    original = {"datastoreName": "idem", "clientToken": "token-1", "tags": {"k": "v"}}
    mi.create_datastore(**original)
    with pytest.raises(ClientError) as caught:
        mi.create_datastore(**{**original, **changed})
    code, status, message = error_of(caught)
    assert (code, status) == ("ConflictException", 409) and "token-1" in message
    assert len(mi.list_datastores()["datastoreSummaries"]) == 1


def test_client_tokens_are_scoped_to_the_region(mi: Any, make_client: Any) -> None:
    east = mi.create_datastore(datastoreName="a", clientToken="shared")["datastoreId"]
    west = make_client("medical-imaging", region_name="eu-west-1")
    assert west.create_datastore(datastoreName="b", clientToken="shared")["datastoreId"] != east


def test_kms_key_arn_and_alias_arn_are_accepted(mi: Any, kms: Any) -> None:
    key = kms.create_key(Description="ds key")["KeyMetadata"]
    kms.create_alias(AliasName="alias/ds", TargetKeyId=key["KeyId"])
    by_key = active_datastore(mi, kmsKeyArn=key["Arn"])
    assert by_key["kmsKeyArn"] == key["Arn"]
    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/ds"
    assert active_datastore(mi, kmsKeyArn=alias_arn)["kmsKeyArn"] == alias_arn


def test_kms_key_in_another_region_is_a_key_in_that_region(mi: Any, make_client: Any) -> None:
    """The key is looked up in the ARN's own region, whatever region the request is signed for."""
    west_kms = make_client("kms", region_name="eu-west-1")
    west_key = west_kms.create_key()["KeyMetadata"]["Arn"]
    assert active_datastore(mi, kmsKeyArn=west_key)["kmsKeyArn"] == west_key


@pytest.mark.parametrize(
    "make_arn",
    [
        lambda key: key.replace(key.rsplit("/", 1)[1], "0" * 8 + "-0000-0000-0000-" + "0" * 12),
        lambda key: key.replace("us-east-1", "eu-west-1"),
        lambda key: key.replace(ACCOUNT, "111122223333"),
        lambda key: f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/not-there",
    ],
    ids=["unknown-key", "other-region", "other-account", "unknown-alias"],
)
def test_missing_kms_key_is_a_validation_error_naming_it(mi: Any, kms: Any, make_arn: Any) -> None:
    missing = make_arn(kms.create_key()["KeyMetadata"]["Arn"])
    with pytest.raises(ClientError) as caught:
        mi.create_datastore(datastoreName="enc", kmsKeyArn=missing)
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationException", 400)
    assert missing in message and "kmsKeyArn" in message
    assert mi.list_datastores()["datastoreSummaries"] == []


def test_malformed_kms_key_arn_is_a_validation_error(mi: Any) -> None:
    with pytest.raises(ClientError) as caught:
        mi.create_datastore(datastoreName="enc", kmsKeyArn="not-an-arn")
    code, _, message = error_of(caught)
    assert code == "ValidationException" and "kmsKeyArn" in message


@pytest.mark.parametrize("make_unusable", ["disable", "schedule-deletion", "asymmetric"])
def test_unusable_kms_key_makes_the_data_store_create_failed(mi: Any, kms: Any, make_unusable: str) -> None:
    if make_unusable == "asymmetric":
        key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]
    else:
        key = kms.create_key()["KeyMetadata"]
        if make_unusable == "disable":
            kms.disable_key(KeyId=key["KeyId"])
        else:
            kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    created = mi.create_datastore(datastoreName="enc", kmsKeyArn=key["Arn"])
    assert created["datastoreStatus"] == "CREATING"
    failed = wait_for_status(mi, created["datastoreId"], "CREATE_FAILED")
    assert failed["kmsKeyArn"] == key["Arn"]


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("datastoreName", "has space"),
        ("datastoreName", "x" * 257),
        ("losslessStorageFormat", "PNG"),
        ("clientToken", "bad token!"),
        ("lambdaAuthorizerArn", "arn:aws:s3:::bucket"),
    ],
)
def test_invalid_create_input_is_a_validation_error_naming_the_member(mi: Any, member: str, value: str) -> None:
    with pytest.raises(ClientError) as caught:
        mi.create_datastore(**{"datastoreName": "ok", member: value})
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationException", 400) and member in message
    assert mi.list_datastores()["datastoreSummaries"] == []


def test_tags_at_create(mi: Any) -> None:
    properties = active_datastore(mi, tags={"Deployment": "Development", "empty": ""})
    tags = mi.list_tags_for_resource(resourceArn=properties["datastoreArn"])["tags"]
    assert tags == {"Deployment": "Development", "empty": ""}


@pytest.mark.parametrize(
    "tags",
    [{"aws:reserved": "x"}, {"AWS:Reserved": "x"}, {f"k{i}": "v" for i in range(51)}, {"bad key": "v"}],
    ids=["aws-prefix", "aws-prefix-any-case", "51-tags", "key-pattern"],
)
def test_bad_tags_at_create_create_nothing(mi: Any, tags: dict[str, str]) -> None:
    with pytest.raises(ClientError) as caught:
        mi.create_datastore(datastoreName="tagged", tags=tags)
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationException", 400) and "tags" in message
    assert mi.list_datastores()["datastoreSummaries"] == []


def test_fifty_tags_at_create_are_accepted(mi: Any) -> None:
    tags = {f"k{i}": "v" for i in range(50)}
    properties = active_datastore(mi, tags=tags)
    assert mi.list_tags_for_resource(resourceArn=properties["datastoreArn"])["tags"] == tags


def test_get_unknown_or_malformed_id(mi: Any) -> None:
    with pytest.raises(ClientError) as caught:
        mi.get_datastore(datastoreId="0" * 32)
    code, status, message = error_of(caught)
    assert (code, status) == ("ResourceNotFoundException", 404) and "0" * 32 in message
    with pytest.raises(ClientError) as caught:
        mi.get_datastore(datastoreId="NOT-AN-ID")
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationException", 400) and "datastoreId" in message


@pytest.fixture
def roomy_config(endpoint_config: EndpointConfig) -> EndpointConfig:
    endpoint_config.max_active_datastores = 60
    return endpoint_config


def test_list_pages_cover_every_data_store_once_in_creation_order(roomy_config: EndpointConfig, mi: Any) -> None:
    created = [mi.create_datastore(datastoreName=f"s{i}")["datastoreId"] for i in range(7)]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"maxResults": 3}
    pages = 0
    while True:
        page = mi.list_datastores(**kwargs)
        pages += 1
        seen += [summary["datastoreId"] for summary in page["datastoreSummaries"]]
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert seen == created and pages == 3
    paginated = mi.get_paginator("list_datastores").paginate(PaginationConfig={"PageSize": 2})
    assert [s["datastoreId"] for p in paginated for s in p["datastoreSummaries"]] == created
    summary = mi.list_datastores(maxResults=1)["datastoreSummaries"][0]
    assert set(summary) == {"datastoreId", "datastoreName", "datastoreStatus", "datastoreArn", "createdAt", "updatedAt"}


def test_default_page_is_fifty(roomy_config: EndpointConfig, mi: Any) -> None:
    for i in range(52):
        mi.create_datastore(datastoreName=f"s{i}")
    first = mi.list_datastores()
    assert len(first["datastoreSummaries"]) == 50 and "nextToken" in first
    rest = mi.list_datastores(nextToken=first["nextToken"])
    assert len(rest["datastoreSummaries"]) == 2 and "nextToken" not in rest


def test_list_filters_by_status_and_pages_within_the_filter(roomy_config: EndpointConfig, mi: Any) -> None:
    active = [active_datastore(mi, datastoreName=f"a{i}")["datastoreId"] for i in range(3)]
    roomy_config.datastore_transition_seconds = 60
    creating = mi.create_datastore(datastoreName="slow")["datastoreId"]
    only_creating = mi.list_datastores(datastoreStatus="CREATING")["datastoreSummaries"]
    assert [s["datastoreId"] for s in only_creating] == [creating]
    first = mi.list_datastores(datastoreStatus="ACTIVE", maxResults=2)
    second = mi.list_datastores(datastoreStatus="ACTIVE", maxResults=2, nextToken=first["nextToken"])
    ids = [s["datastoreId"] for s in first["datastoreSummaries"] + second["datastoreSummaries"]]
    assert ids == active and "nextToken" not in second
    assert mi.list_datastores(datastoreStatus="DELETED")["datastoreSummaries"] == []


@pytest.mark.parametrize(
    "token_for",
    [
        lambda good: "garbage",
        lambda good: good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        lambda good: "A" + good[1:] if good[0] != "A" else "B" + good[1:],
    ],
    ids=["garbage", "altered-signature", "altered-position"],
)
def test_bad_next_token_is_a_validation_error(mi: Any, token_for: Any) -> None:
    for i in range(3):
        mi.create_datastore(datastoreName=f"s{i}")
    good = mi.list_datastores(maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as caught:
        mi.list_datastores(maxResults=1, nextToken=token_for(good))
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationException", 400) and "nextToken" in message


def test_token_from_another_filter_or_region_is_a_validation_error(mi: Any, make_client: Any) -> None:
    for i in range(3):
        mi.create_datastore(datastoreName=f"s{i}")
    unfiltered = mi.list_datastores(maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as caught:
        mi.list_datastores(maxResults=1, datastoreStatus="CREATING", nextToken=unfiltered)
    assert error_of(caught)[0] == "ValidationException"
    west = make_client("medical-imaging", region_name="eu-west-1")
    with pytest.raises(ClientError) as caught:
        west.list_datastores(nextToken=unfiltered)
    assert error_of(caught)[0] == "ValidationException"


@pytest.mark.parametrize("max_results", [0, 51])
def test_max_results_out_of_range(make_client: Any, max_results: int) -> None:
    unchecked = make_client("medical-imaging", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as caught:
        unchecked.list_datastores(maxResults=max_results)
    code, _, message = error_of(caught)
    assert code == "ValidationException" and "maxResults" in message


def test_delete_goes_deleting_then_deleted_and_stays_listed(mi: Any) -> None:
    properties = active_datastore(mi)
    datastore_id = properties["datastoreId"]
    deleted = mi.delete_datastore(datastoreId=datastore_id)
    assert deleted["datastoreId"] == datastore_id and deleted["datastoreStatus"] == "DELETING"
    gone = wait_for_status(mi, datastore_id, "DELETED")
    assert gone["updatedAt"] > properties["updatedAt"]
    listed = mi.list_datastores(datastoreStatus="DELETED")["datastoreSummaries"]
    assert [s["datastoreId"] for s in listed] == [datastore_id]
    with pytest.raises(ClientError) as caught:
        mi.delete_datastore(datastoreId=datastore_id)
    assert error_of(caught)[:2] == ("ConflictException", 409)


def test_delete_while_creating_or_deleting_is_a_conflict(endpoint_config: EndpointConfig, mi: Any) -> None:
    endpoint_config.datastore_transition_seconds = 60
    creating = mi.create_datastore(datastoreName="slow")["datastoreId"]
    with pytest.raises(ClientError) as caught:
        mi.delete_datastore(datastoreId=creating)
    code, status, message = error_of(caught)
    assert (code, status) == ("ConflictException", 409) and "CREATING" in message
    endpoint_config.datastore_transition_seconds = 0.0
    ready = mi.create_datastore(datastoreName="fast")["datastoreId"]
    wait_for_status(mi, ready, "ACTIVE")
    endpoint_config.datastore_transition_seconds = 60
    mi.delete_datastore(datastoreId=ready)
    with pytest.raises(ClientError) as caught:
        mi.delete_datastore(datastoreId=ready)
    assert "DELETING" in error_of(caught)[2]


def test_create_failed_data_store_can_be_deleted(mi: Any, kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    datastore_id = mi.create_datastore(datastoreName="enc", kmsKeyArn=key["Arn"])["datastoreId"]
    wait_for_status(mi, datastore_id, "CREATE_FAILED")
    assert mi.delete_datastore(datastoreId=datastore_id)["datastoreStatus"] == "DELETING"
    wait_for_status(mi, datastore_id, "DELETED")


def test_delete_unknown_data_store(mi: Any) -> None:
    with pytest.raises(ClientError) as caught:
        mi.delete_datastore(datastoreId="f" * 32)
    assert error_of(caught)[:2] == ("ResourceNotFoundException", 404)


@pytest.fixture
def image_sets_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Stands in for the store's count of a data store's live image sets."""
    held: dict[str, int] = {}
    monkeypatch.setattr(imagesets, "count_live", lambda conn, datastore_id: held.get(datastore_id, 0))
    yield held


def test_delete_while_image_sets_remain_is_a_conflict(mi: Any, image_sets_held: dict[str, int]) -> None:
    datastore_id = active_datastore(mi)["datastoreId"]
    image_sets_held[datastore_id] = 2
    with pytest.raises(ClientError) as caught:
        mi.delete_datastore(datastoreId=datastore_id)
    code, status, message = error_of(caught)
    assert (code, status) == ("ConflictException", 409) and "2 image set" in message
    assert mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE"
    image_sets_held[datastore_id] = 0
    assert mi.delete_datastore(datastoreId=datastore_id)["datastoreStatus"] == "DELETING"


def test_quota_of_ten_active_data_stores_per_region(mi: Any, make_client: Any, kms: Any) -> None:
    ids = [mi.create_datastore(datastoreName=f"s{i}")["datastoreId"] for i in range(10)]
    with pytest.raises(ClientError) as caught:
        mi.create_datastore(datastoreName="eleventh")
    code, status, message = error_of(caught)
    assert (code, status) == ("ServiceQuotaExceededException", 402) and "10" in message
    assert len(mi.list_datastores()["datastoreSummaries"]) == 10
    west = make_client("medical-imaging", region_name="eu-west-1")
    west.create_datastore(datastoreName="elsewhere")
    wait_for_status(mi, ids[0], "ACTIVE")
    mi.delete_datastore(datastoreId=ids[0])
    replacement = mi.create_datastore(datastoreName="replacement")["datastoreId"]
    wait_for_status(mi, replacement, "ACTIVE")
    with pytest.raises(ClientError):
        mi.create_datastore(datastoreName="twelfth")


def test_create_failed_data_stores_do_not_hold_quota(
    endpoint_config: EndpointConfig, endpoint: LocalEndpoint, mi: Any, kms: Any
) -> None:
    endpoint_config.max_active_datastores = 1
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    frozen = endpoint.runtime.now()
    endpoint.runtime.clock = lambda: frozen  # still CREATING however slowly the next call arrives
    failed = mi.create_datastore(datastoreName="enc", kmsKeyArn=key["Arn"])["datastoreId"]
    with pytest.raises(ClientError) as caught:
        mi.create_datastore(datastoreName="while-creating")
    assert error_of(caught)[0] == "ServiceQuotaExceededException"
    endpoint.runtime.clock = time.time
    wait_for_status(mi, failed, "CREATE_FAILED")
    active_datastore(mi)


def test_an_idempotent_replay_is_not_refused_by_the_quota(endpoint_config: EndpointConfig, mi: Any) -> None:
    endpoint_config.max_active_datastores = 1
    first = mi.create_datastore(datastoreName="only", clientToken="once")["datastoreId"]
    assert mi.create_datastore(datastoreName="only", clientToken="once")["datastoreId"] == first


def test_concurrent_creates_respect_the_quota_and_client_tokens(mi: Any) -> None:
    def create(index: int) -> str:
        try:
            return mi.create_datastore(datastoreName=f"race{index}")["datastoreId"]
        except ClientError as error:
            return error.response["Error"]["Code"]

    def replay(_: int) -> str:
        return mi.create_datastore(datastoreName="same", clientToken="raced")["datastoreId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        same = set(pool.map(replay, range(8)))
        outcomes = list(pool.map(create, range(16)))
    assert len(same) == 1
    created = [outcome for outcome in outcomes if outcome != "ServiceQuotaExceededException"]
    assert len(created) == 9 and len(set(created)) == 9
    assert len(mi.list_datastores()["datastoreSummaries"]) == 10
