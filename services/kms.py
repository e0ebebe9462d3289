"""KMS key status for data stores: describe-key, rotation status, aliases, and the key picker's list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from ahi.services.backoff import Backoff
from ahi.services.errors import AwsCallError

#: KeyStates in which HealthImaging cannot use the key, so the data store's data is unreadable.
UNUSABLE_KEY_STATES = frozenset({"Disabled", "PendingDeletion", "PendingImport", "Unavailable"})


@dataclass(frozen=True)
class KmsKey:
    """A key the account can choose for a new data store."""

    key_id: str
    arn: str
    alias: str | None
    description: str

    @property
    def label(self) -> str:
        return self.alias or self.key_id


@dataclass(frozen=True)
class KeyStatus:
    """What the console knows about a data store's key; `error` is set when DescribeKey failed."""

    key_ref: str | None
    arn: str | None = None
    key_id: str | None = None
    alias: str | None = None
    key_state: str | None = None
    key_manager: str | None = None
    deletion_date: datetime | None = None
    rotation_enabled: bool | None = None
    #: Why GetKeyRotationStatus gave no answer (e.g. AccessDeniedException), when it failed.
    rotation_error: str | None = None
    describable: bool = True
    error: AwsCallError | None = None
    #: The DescribeKey answer it came from (the console's raw JSON view shows it).
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def aws_owned(self) -> bool:
        return self.key_ref is None

    @property
    def usable(self) -> bool:
        """False when the key state makes the data store unreadable; unknown states count as usable."""
        return self.key_state not in UNUSABLE_KEY_STATES


class KmsService:
    """The KMS calls the console needs, each behind our throttling backoff."""

    def __init__(self, client: Any, backoff: Backoff | None = None) -> None:
        self.client = client
        self.backoff = backoff or Backoff()

    def aliases(self) -> dict[str, str]:
        """Key id -> first alias name (customer aliases preferred over `alias/aws/...`)."""
        def fetch() -> list[dict[str, Any]]:
            pages = self.client.get_paginator("list_aliases").paginate()
            return [alias for page in pages for alias in page.get("Aliases", [])]

        result: dict[str, str] = {}
        for alias in sorted(self.backoff.call("ListAliases", fetch), key=lambda a: a["AliasName"].startswith("alias/aws/")):
            target = alias.get("TargetKeyId")
            if target and target not in result:
                result[target] = alias["AliasName"]
        return result

    def customer_keys(self) -> list[KmsKey]:
        """Enabled symmetric customer-managed keys: the ones a data store can be created with."""
        def fetch() -> list[dict[str, Any]]:
            pages = self.client.get_paginator("list_keys").paginate()
            return [key for page in pages for key in page.get("Keys", [])]

        aliases = self.aliases()
        keys: list[KmsKey] = []
        for entry in self.backoff.call("ListKeys", fetch):
            meta = self.backoff.call("DescribeKey", lambda: self.client.describe_key(KeyId=entry["KeyId"]))["KeyMetadata"]
            if meta.get("KeyManager") != "CUSTOMER" or meta.get("KeyState") != "Enabled":
                continue
            if meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
                continue
            keys.append(KmsKey(meta["KeyId"], meta["Arn"], aliases.get(meta["KeyId"]), meta.get("Description", "")))
        return sorted(keys, key=lambda key: (key.alias is None, key.label))

    def aliases_or_empty(self) -> dict[str, str]:
        """`aliases()`, or nothing when ListAliases is refused: aliases only label keys."""
        try:
            return self.aliases()
        except AwsCallError:
            return {}

    def statuses(self, key_refs: Iterable[str | None], aliases: dict[str, str] | None = None) -> dict[str | None, KeyStatus]:
        """The status of each distinct key (None = AWS owned), listing aliases once for all of them (unless given)."""
        distinct = list(dict.fromkeys(key_refs))
        if aliases is None:
            aliases = self.aliases_or_empty() if any(ref is not None for ref in distinct) else {}
        return {ref: self.status(ref, aliases) for ref in distinct}

    def status(self, key_ref: str | None, aliases: dict[str, str] | None = None) -> KeyStatus:
        """DescribeKey and GetKeyRotationStatus for a data store's key; None means AWS owned.

        A refused or failed DescribeKey is part of the answer (`error`), not an exception: the
        console's credentials may lack kms:DescribeKey while HealthImaging's grants still work.
        """
        if key_ref is None:
            return KeyStatus(None, key_state="Enabled", key_manager="AWS")
        try:
            response = self.backoff.call("DescribeKey", lambda: self.client.describe_key(KeyId=key_ref))
        except AwsCallError as error:
            return KeyStatus(key_ref, arn=key_ref, describable=error.code != "AccessDeniedException", error=error)
        meta = response["KeyMetadata"]
        rotation: bool | None = None
        rotation_error: str | None = None
        try:
            rotation = bool(
                self.backoff.call(
                    "GetKeyRotationStatus", lambda: self.client.get_key_rotation_status(KeyId=meta["KeyId"])
                ).get("KeyRotationEnabled")
            )
        except AwsCallError as error:
            rotation_error = error.code
        alias = (aliases if aliases is not None else self.aliases_or_empty()).get(meta["KeyId"])
        return KeyStatus(
            key_ref,
            arn=meta.get("Arn"),
            key_id=meta.get("KeyId"),
            alias=alias,
            key_state=meta.get("KeyState"),
            key_manager=meta.get("KeyManager"),
            deletion_date=meta.get("DeletionDate"),
            rotation_enabled=rotation,
            rotation_error=rotation_error,
            raw={key: value for key, value in response.items() if key != "ResponseMetadata"},
        )
