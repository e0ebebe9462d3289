"""Tag rules and operations, and KMS key status for the data store views."""

from __future__ import annotations

from typing import Any

from ahi.services.connection import Connection
from ahi.services.tags import MAX_TAGS_PER_RESOURCE, parse_tags, tag_problems


def test_tag_rules_come_from_the_model() -> None:
    assert tag_problems({"team": "imaging"}) == []
    fields = {p.field for p in tag_problems({"aws:owner": "x", "k" * 129: "v", "ok": "v" * 257})}
    assert fields == {"tag key 'aws:owner'", f"tag key {'k' * 129!r}", "tag value of 'ok'"}
    too_many = {f"k{i}": "v" for i in range(MAX_TAGS_PER_RESOURCE)}
    assert [p.field for p in tag_problems({"one-more": "v"}, existing=too_many)] == ["tags"]


def test_parse_tags() -> None:
    assert parse_tags("team=imaging, env = dev,flag") == {"team": "imaging", "env": "dev", "flag": ""}


def test_tag_round_trip(hub: Connection, mi: Any) -> None:
    arn = mi.get_datastore(datastoreId=mi.create_datastore(datastoreName="t", clientToken="t")["datastoreId"])[
        "datastoreProperties"
    ]["datastoreArn"]
    hub.tags.tag(arn, {"a": "1", "b": "2"})
    hub.tags.untag(arn, ["a"])
    assert hub.tags.list(arn) == {"b": "2"}


def test_customer_keys_for_the_picker(hub: Connection, kms: Any) -> None:
    named = kms.create_key(Description="imaging")["KeyMetadata"]
    kms.create_alias(AliasName="alias/imaging", TargetKeyId=named["KeyId"])
    disabled = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    keys = hub.kms.customer_keys()
    assert [(k.arn, k.alias, k.description) for k in keys] == [(named["Arn"], "alias/imaging", "imaging")]


def test_key_status(hub: Connection, kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    status = hub.kms.status(key["Arn"])
    assert (status.key_state, status.key_manager, status.rotation_enabled, status.usable) == (
        "Enabled", "CUSTOMER", True, True,
    )
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    pending = hub.kms.status(key["Arn"])
    assert pending.key_state == "PendingDeletion" and pending.deletion_date is not None and not pending.usable
    assert hub.kms.status(None).aws_owned


def test_unknown_key_is_reported_not_raised(hub: Connection) -> None:
    status = hub.kms.status("arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000")
    assert status.error is not None and status.error.code == "NotFoundException"
