"""Whether each data store's KMS key lets HealthImaging read it, and what the operator should do.

HealthImaging decrypts image sets with the data store's key on every read, search and import
(docs/service.md#encryption-keys), so a customer key that is Disabled, PendingDeletion, PendingImport or Unavailable,
or that no longer exists, makes the store's data unreadable. A key the console's own credentials
may not describe is only a warning: HealthImaging's grants may still work.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from ahi.services.datastores import Datastore, DatastoreService
from ahi.services.kms import KeyStatus, KmsService

#: Data store statuses whose data no longer matters (the key can be gone without harm).
GONE_STATUSES = frozenset({"DELETING", "DELETED"})
KEY_NOT_FOUND_CODES = frozenset({"NotFoundException", "KMSNotFoundException"})


class KeyHealth(enum.Enum):
    """How worried the operator should be; `UNREADABLE` is flagged red and counted in the header."""

    OK = "ok"
    WARNING = "warning"
    UNREADABLE = "unreadable"

    @property
    def rank(self) -> int:
        """0 for the most urgent, so sorting by rank lists unreadable stores first."""
        return (KeyHealth.UNREADABLE, KeyHealth.WARNING, KeyHealth.OK).index(self)


@dataclass(frozen=True)
class KeyAssessment:
    """A one-line verdict and the steps that fix it (AWS CLI commands where there are any)."""

    health: KeyHealth
    summary: str
    advice: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatastoreKeyCheck:
    """One data store, its key's status and the verdict."""

    datastore: Datastore
    key: KeyStatus
    assessment: KeyAssessment

    @property
    def unreadable(self) -> bool:
        return self.assessment.health is KeyHealth.UNREADABLE


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "the scheduled date"


def _state_advice(key: KeyStatus, key_id: str) -> tuple[str, tuple[str, ...]]:
    """Summary and steps for a key state HealthImaging cannot use."""
    state = key.key_state
    if state == "Disabled":
        return "key is Disabled", (
            "Enable the key if it was disabled by mistake:",
            f"aws kms enable-key --key-id {key_id}",
        )
    if state == "PendingDeletion":
        return f"key is scheduled for deletion on {_when(key.deletion_date)}", (
            f"Cancel the deletion before {_when(key.deletion_date)}, then enable the key; after that date the data is lost for good:",
            f"aws kms cancel-key-deletion --key-id {key_id}",
            f"aws kms enable-key --key-id {key_id}",
        )
    if state == "PendingImport":
        return "key has no key material yet (PendingImport)", (
            "Import the key material (aws kms get-parameters-for-import, then):",
            f"aws kms import-key-material --key-id {key_id} --encrypted-key-material fileb://material.bin "
            "--import-token fileb://token.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
    return "key is Unavailable (its custom key store is disconnected)", (
        "Reconnect the custom key store that holds the key:",
        "aws kms describe-custom-key-stores, then aws kms connect-custom-key-store --custom-key-store-id <id>",
    )


def assess(datastore: Datastore, key: KeyStatus) -> KeyAssessment:
    """The verdict for one data store and its key's status."""
    if datastore.status in GONE_STATUSES:
        return KeyAssessment(KeyHealth.OK, f"data store is {datastore.status}; its key no longer matters")
    if not datastore.detailed:
        return KeyAssessment(KeyHealth.WARNING, "key unknown: GetDatastore gave no details", ("Refresh (r) to try again.",))
    if key.aws_owned:
        return KeyAssessment(KeyHealth.OK, "AWS owned key: nothing to manage")
    key_id = key.arn or key.key_ref or "?"
    if key.error is not None:
        if key.error.code in KEY_NOT_FOUND_CODES:
            return KeyAssessment(
                KeyHealth.UNREADABLE,
                "key does not exist (deleted?)",
                (
                    "HealthImaging cannot decrypt this data store's data without its key.",
                    "A deleted key cannot be recovered: restore from another copy of the DICOM data into a new data store.",
                ),
            )
        if not key.describable:
            return KeyAssessment(
                KeyHealth.WARNING,
                "the console may not describe this key (AccessDenied)",
                (
                    "The key may well be fine: HealthImaging uses its own grants.",
                    f"To see its state, use credentials allowed kms:DescribeKey on {key_id}.",
                ),
            )
        return KeyAssessment(
            KeyHealth.WARNING,
            f"key state unknown: DescribeKey answered {key.error.code}",
            ("Refresh (r) to try again; the call log (!) has the full answer.",),
        )
    if key.usable and datastore.status == "CREATE_FAILED":
        return KeyAssessment(
            KeyHealth.WARNING,
            f"creation failed, though the key is {key.key_state or 'usable'} now",
            ("Delete this data store and create it again; it never held data.",),
        )
    if key.usable:
        advice: tuple[str, ...] = ("Do not revoke or retire HealthImaging's grants on this key: access to the data ends at once.",)
        if key.rotation_enabled is False and key.key_manager == "CUSTOMER":
            advice += ("Automatic rotation is off; to turn it on:", f"aws kms enable-key-rotation --key-id {key_id}")
        return KeyAssessment(KeyHealth.OK, f"customer key is {key.key_state or 'usable'}", advice)
    summary, steps = _state_advice(key, key_id)
    if datastore.status == "CREATE_FAILED":
        return KeyAssessment(
            KeyHealth.UNREADABLE,
            f"creation failed: {summary}",
            (
                "The data store was never usable. Fix the key as below, then delete this data store",
                "and create it again with the key (or choose another enabled key).",
                *steps,
            ),
        )
    return KeyAssessment(
        KeyHealth.UNREADABLE,
        f"data unreadable: {summary}",
        ("HealthImaging cannot decrypt this data store's image sets: reads, searches and imports fail.", *steps),
    )


def check_datastore_keys(datastores: DatastoreService, kms: KmsService) -> list[DatastoreKeyCheck]:
    """Every data store with its key's status and verdict; unreadable ones first, then warnings."""
    return assess_datastores(datastores.list_detailed(), kms)


def assess_datastores(stores: list[Datastore], kms: KmsService, aliases: dict[str, str] | None = None) -> list[DatastoreKeyCheck]:
    """`check_datastore_keys` for stores already listed (`aliases` saves listing them again)."""
    statuses = kms.statuses((store.kms_key_arn for store in stores if store.detailed), aliases)
    unknown = KeyStatus(None)
    checks = []
    for store in stores:
        key = statuses.get(store.kms_key_arn, unknown) if store.detailed else unknown
        checks.append(DatastoreKeyCheck(store, key, assess(store, key)))
    return sorted(checks, key=lambda check: (check.assessment.health.rank, check.datastore.name.lower(), check.datastore.id))
