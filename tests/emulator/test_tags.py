"""TagResource, UntagResource and ListTagsForResource with boto3 over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from datastore_waits import ACCOUNT, active_datastore, error_of, wait_for_status

from ahi.emulator.arns import image_set_arn
from ahi.emulator.store import imagesets

IMAGE_SET_ID = "b" * 32


@pytest.fixture
def datastore_arn(mi: Any) -> str:
    return active_datastore(mi, tags={"Owner": "team"})["datastoreArn"]


def test_tag_list_untag_round_trip(mi: Any, datastore_arn: str) -> None:
    added = mi.tag_resource(resourceArn=datastore_arn, tags={"Deployment": "Development", "Owner": "other"})
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert mi.list_tags_for_resource(resourceArn=datastore_arn)["tags"] == {
        "Deployment": "Development",
        "Owner": "other",
    }
    mi.untag_resource(resourceArn=datastore_arn, tagKeys=["Owner", "never-set"])
    assert mi.list_tags_for_resource(resourceArn=datastore_arn)["tags"] == {"Deployment": "Development"}
    mi.untag_resource(resourceArn=datastore_arn, tagKeys=["Deployment"])
    assert mi.list_tags_for_resource(resourceArn=datastore_arn)["tags"] == {}


def test_keys_and_values_at_the_model_limits(mi: Any, datastore_arn: str) -> None:
    tags = {"k" * 128: "v" * 256, "a+-=._:/0,;<Z": "", "key": "any value, even: ünïcode!"}
    mi.tag_resource(resourceArn=datastore_arn, tags=tags)
    assert mi.list_tags_for_resource(resourceArn=datastore_arn)["tags"] == {"Owner": "team", **tags}


@pytest.mark.parametrize(
    ("tags", "rule"),
    [
        ({"k" * 129: "v"}, "128"),
        ({"key": "v" * 257}, "256"),
        ({"has space": "v"}, "pattern"),
        ({"aws:thing": "v"}, "aws:"),
        ({"AWS:Thing": "v"}, "aws:"),
    ],
    ids=["key-too-long", "value-too-long", "key-pattern", "aws-prefix", "aws-prefix-upper"],
)
def test_tag_rule_violations_change_nothing(mi: Any, datastore_arn: str, tags: dict[str, str], rule: str) -> None:
    with pytest.raises(ClientError) as caught:
        mi.tag_resource(resourceArn=datastore_arn, tags={"fine": "x", **tags})
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationException", 400)
    assert "tags" in message and rule in message
    assert mi.list_tags_for_resource(resourceArn=datastore_arn)["tags"] == {"Owner": "team"}


def test_fifty_tags_per_resource_after_merge(mi: Any, datastore_arn: str) -> None:
    mi.tag_resource(resourceArn=datastore_arn, tags={f"k{i}": "v" for i in range(48)})
    mi.tag_resource(resourceArn=datastore_arn, tags={"k0": "overwritten", "k48": "v"})
    assert len(mi.list_tags_for_resource(resourceArn=datastore_arn)["tags"]) == 50
    with pytest.raises(ClientError) as caught:
        mi.tag_resource(resourceArn=datastore_arn, tags={"k1": "still-fine", "one-too-many": "v"})
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationException", 400) and "50" in message and "51" in message
    tags = mi.list_tags_for_resource(resourceArn=datastore_arn)["tags"]
    assert len(tags) == 50 and tags["k0"] == "overwritten" and tags["k1"] == "v"
    mi.tag_resource(resourceArn=datastore_arn, tags={"k1": "replacing-is-fine"})


def test_untag_reserved_or_invalid_keys_is_a_validation_error(mi: Any, datastore_arn: str) -> None:
    for keys in (["AWS:x"], ["k" * 129]):
        with pytest.raises(ClientError) as caught:
            mi.untag_resource(resourceArn=datastore_arn, tagKeys=keys)
        code, _, message = error_of(caught)
        assert code == "ValidationException" and "tagKeys" in message, keys


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:s3:::bucket",
        "not-an-arn",
        f"arn:aws:medical-imaging:us-east-1:{ACCOUNT}:datastore/short",
        f"arn:aws:medical-imaging:us-east-1:{ACCOUNT}:dicomstore/{'a' * 32}",
        f"arn:aws:medical-imaging:us-east-1:{ACCOUNT}:datastore/{'a' * 32}/imageSet/{'b' * 32}",
    ],
)
def test_arn_of_the_wrong_form_is_a_validation_error(mi: Any, arn: str) -> None:
    calls = (
        lambda: mi.tag_resource(resourceArn=arn, tags={"k": "v"}),
        lambda: mi.untag_resource(resourceArn=arn, tagKeys=["k"]),
        lambda: mi.list_tags_for_resource(resourceArn=arn),
    )
    for call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        code, status, message = error_of(caught)
        assert (code, status) == ("ValidationException", 400) and "resourceArn" in message


def test_unknown_resources_are_not_found(mi: Any, datastore_arn: str) -> None:
    datastore_id = datastore_arn.rsplit("/", 1)[1]
    unknown = [
        datastore_arn.replace(datastore_id, "0" * 32),
        datastore_arn.replace("us-east-1", "eu-west-1"),
        datastore_arn.replace(ACCOUNT, "111122223333"),
        datastore_arn.replace("arn:aws:", "arn:aws-cn:"),
        image_set_arn("us-east-1", ACCOUNT, datastore_id, IMAGE_SET_ID),
    ]
    for arn in unknown:
        for call in (
            lambda: mi.tag_resource(resourceArn=arn, tags={"k": "v"}),
            lambda: mi.untag_resource(resourceArn=arn, tagKeys=["k"]),
            lambda: mi.list_tags_for_resource(resourceArn=arn),
        ):
            with pytest.raises(ClientError) as caught:
                call()
            code, status, message = error_of(caught)
            assert (code, status) == ("ResourceNotFoundException", 404) and arn in message, arn


def test_deleted_data_store_cannot_be_tagged(mi: Any, datastore_arn: str) -> None:
    datastore_id = datastore_arn.rsplit("/", 1)[1]
    mi.delete_datastore(datastoreId=datastore_id)
    mi.tag_resource(resourceArn=datastore_arn, tags={"while": "deleting"})
    wait_for_status(mi, datastore_id, "DELETED")
    with pytest.raises(ClientError) as caught:
        mi.list_tags_for_resource(resourceArn=datastore_arn)
    assert error_of(caught)[:2] == ("ResourceNotFoundException", 404)


def test_image_set_tags_once_the_image_set_exists(
    mi: Any, datastore_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An image set ARN is taggable while the store knows the image set; tags stay per resource."""
    datastore_id = datastore_arn.rsplit("/", 1)[1]
    existing = {IMAGE_SET_ID}
    monkeypatch.setattr(imagesets, "exists_for_arn", lambda conn, arn: arn.image_set_id in existing)
    arn = image_set_arn("us-east-1", ACCOUNT, datastore_id, IMAGE_SET_ID)
    mi.tag_resource(resourceArn=arn, tags={"Series": "CT"})
    assert mi.list_tags_for_resource(resourceArn=arn)["tags"] == {"Series": "CT"}
    assert mi.list_tags_for_resource(resourceArn=datastore_arn)["tags"] == {"Owner": "team"}
    mi.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(49)})
    with pytest.raises(ClientError) as caught:
        mi.tag_resource(resourceArn=arn, tags={"over": "limit"})
    assert error_of(caught)[0] == "ValidationException"
    other = image_set_arn("us-east-1", ACCOUNT, datastore_id, "c" * 32)
    with pytest.raises(ClientError) as caught:
        mi.list_tags_for_resource(resourceArn=other)
    assert error_of(caught)[0] == "ResourceNotFoundException"
