"""KMS key status per data store against the local endpoint (moto KMS), and the verdict rules."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from kms_faults import inject_kms_faults

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.services.datastores import Datastore
from ahi.services.errors import AwsCallError
from ahi.services.connection import Connection
from ahi.services.kms import KeyStatus
from ahi.services.kms_health import KeyHealth, assess, check_datastore_keys

@pytest.fixture
def endpoint_config(endpoint_config: EndpointConfig) -> EndpointConfig:
    """Data stores settle at once (ACTIVE, or CREATE_FAILED for an unusable key)."""
    endpoint_config.datastore_transition_seconds = 0
    return endpoint_config


KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555"


def store(status: str = "ACTIVE", key: str | None = KEY_ARN, detailed: bool = True) -> Datastore:
    return Datastore(id="0" * 32, name="s", status=status, kms_key_arn=key, detailed=detailed)


def key(state: str, **extra: Any) -> KeyStatus:
    return KeyStatus(KEY_ARN, arn=KEY_ARN, key_id=KEY_ARN[-36:], key_state=state, key_manager="CUSTOMER", **extra)


@pytest.mark.parametrize(
    ("state", "command"),
    [
        ("Disabled", f"aws kms enable-key --key-id {KEY_ARN}"),
        ("PendingDeletion", f"aws kms cancel-key-deletion --key-id {KEY_ARN}"),
        ("PendingImport", f"aws kms import-key-material --key-id {KEY_ARN}"),
        ("Unavailable", "aws kms describe-custom-key-stores"),
    ],
)
def test_unusable_key_states_make_an_active_store_unreadable(state: str, command: str) -> None:
    verdict = assess(store(), key(state, deletion_date=datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)))
    assert verdict.health is KeyHealth.UNREADABLE
    assert verdict.summary.startswith("data unreadable")
    assert any(step.startswith(command) for step in verdict.advice)
    if state == "PendingDeletion":
        assert "2026-02-01 12:00 UTC" in verdict.summary


def test_verdicts_for_the_other_cases() -> None:
    assert assess(store(), key("Enabled", rotation_enabled=True)).health is KeyHealth.OK
    rotation_off = assess(store(), key("Enabled", rotation_enabled=False))
    assert f"aws kms enable-key-rotation --key-id {KEY_ARN}" in rotation_off.advice
    failed = assess(store("CREATE_FAILED"), key("Disabled"))
    assert failed.health is KeyHealth.UNREADABLE and failed.summary.startswith("creation failed")
    assert assess(store("CREATE_FAILED"), key("Enabled")).health is KeyHealth.WARNING
    assert assess(store("DELETED"), key("Disabled")).health is KeyHealth.OK
    assert assess(store(key=None), KeyStatus(None)).health is KeyHealth.OK
    assert assess(store(detailed=False), KeyStatus(None)).health is KeyHealth.WARNING
    denied = KeyStatus(KEY_ARN, describable=False, error=AwsCallError("DescribeKey", "AccessDeniedException", "no"))
    assert assess(store(), denied).health is KeyHealth.WARNING
    gone = KeyStatus(KEY_ARN, error=AwsCallError("DescribeKey", "NotFoundException", "gone"))
    assert assess(store(), gone).health is KeyHealth.UNREADABLE
    throttled = KeyStatus(KEY_ARN, error=AwsCallError("DescribeKey", "ThrottlingException", "slow"))
    assert assess(store(), throttled).health is KeyHealth.WARNING


def test_check_every_store_over_http(hub: Connection, mi: Any, kms: Any, endpoint: LocalEndpoint) -> None:
    def customer_key(alias: str) -> dict[str, Any]:
        meta = kms.create_key(Description=alias)["KeyMetadata"]
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=meta["KeyId"])
        return meta

    def create(name: str, key_meta: dict[str, Any] | None = None) -> str:
        params: dict[str, Any] = {"datastoreName": name, "clientToken": name}
        if key_meta is not None:
            params["kmsKeyArn"] = key_meta["Arn"]
        return str(mi.create_datastore(**params)["datastoreId"])

    good, disabled, pending, denied = (customer_key(name) for name in ("good", "disabled", "pending", "denied"))
    kms.enable_key_rotation(KeyId=good["KeyId"])
    create("aws-owned")
    create("good-a", good)
    create("good-b", good)
    create("later-disabled", disabled)
    create("pending", pending)
    create("denied", denied)
    kms.disable_key(KeyId=disabled["KeyId"])
    kms.schedule_key_deletion(KeyId=pending["KeyId"], PendingWindowInDays=7)
    create("failed", disabled)
    faults = inject_kms_faults(endpoint)
    faults.fail("DescribeKey", denied["KeyId"], "AccessDeniedException")
    before = len(hub.aws.call_log.records())

    checks = {check.datastore.name: check for check in check_datastore_keys(hub.datastores, hub.kms)}
    operations = [record.operation for record in hub.aws.call_log.records()[before:]]

    assert checks["failed"].datastore.status == "CREATE_FAILED"
    health = {name: check.assessment.health for name, check in checks.items()}
    assert health == {
        "aws-owned": KeyHealth.OK,
        "good-a": KeyHealth.OK,
        "good-b": KeyHealth.OK,
        "later-disabled": KeyHealth.UNREADABLE,
        "pending": KeyHealth.UNREADABLE,
        "failed": KeyHealth.UNREADABLE,
        "denied": KeyHealth.WARNING,
    }
    assert [check.datastore.name for check in check_datastore_keys(hub.datastores, hub.kms)][:4] == [
        "failed", "later-disabled", "pending", "denied",
    ]
    good_key = checks["good-a"].key
    assert (good_key.alias, good_key.key_state, good_key.key_manager, good_key.rotation_enabled) == (
        "alias/good", "Enabled", "CUSTOMER", True,
    )
    assert good_key.raw["KeyMetadata"]["KeyId"] == good["KeyId"]
    assert checks["later-disabled"].key.key_state == "Disabled"
    moto_deletion = kms.describe_key(KeyId=pending["KeyId"])["KeyMetadata"]["DeletionDate"]
    assert checks["pending"].key.deletion_date == moto_deletion
    assert checks["denied"].key.describable is False and checks["denied"].key.error.code == "AccessDeniedException"
    assert operations.count("ListAliases") == 1
    assert operations.count("DescribeKey") == 4  # one per distinct customer key, not per data store


def test_aliases_refused_still_gives_the_states(hub: Connection, kms: Any, endpoint: LocalEndpoint) -> None:
    meta = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/hidden", TargetKeyId=meta["KeyId"])
    faults = inject_kms_faults(endpoint)
    faults.fail("ListAliases", "*", "AccessDeniedException")
    faults.fail("GetKeyRotationStatus", "*", "AccessDeniedException")
    status = hub.kms.statuses([meta["Arn"], None])
    assert status[meta["Arn"]].key_state == "Enabled" and status[meta["Arn"]].alias is None
    assert status[meta["Arn"]].rotation_enabled is None and status[meta["Arn"]].rotation_error == "AccessDeniedException"
    assert status[None].aws_owned
