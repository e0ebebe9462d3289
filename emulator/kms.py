"""In-process reads of moto's KMS state: does a key (or alias) ARN name a key, and in what state.

These reach into `moto.kms.models` (internal API), which is why moto is pinned exactly and
tests/emulator/test_store.py covers them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moto.kms.models import Key, KmsBackend

#: The parts of a KMS key ARN or alias ARN (the model's `KmsKeyArn` pattern checks the details).
KMS_ARN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]{0,16}):kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12})"
    r":(?P<kind>key|alias)/(?P<name>.+)"
)


@dataclass(frozen=True)
class KmsKeyInfo:
    """What DescribeKey would tell the service about a key."""

    arn: str
    key_id: str
    state: str
    key_spec: str
    key_usage: str

    @property
    def is_symmetric_encryption_key(self) -> bool:
        """HealthImaging needs a symmetric encryption key (it calls GenerateDataKey with it)."""
        return self.key_spec == "SYMMETRIC_DEFAULT" and self.key_usage == "ENCRYPT_DECRYPT"


def _backend(account_id: str, region: str) -> KmsBackend | None:
    """The moto KMS backend of an account and region, without creating one as a side effect."""
    from moto.kms.models import kms_backends  # moto loads on first need (emulator/moto_world.py)

    per_account = dict.get(kms_backends, account_id)
    if per_account is None:
        return None
    return dict.get(per_account, region)


def _find(backend: KmsBackend, kind: str, name: str) -> Key | None:
    if kind == "key":
        return backend.keys.get(name)
    alias = f"alias/{name}"
    # Only aliases that exist; moto's own lookup would mint an AWS-managed key for `alias/aws/*`.
    return next((key for key in list(backend.keys.values()) if alias in key.aliases), None)


def describe_key(arn: str) -> KmsKeyInfo | None:
    """Look a key ARN or alias ARN up in the region and account the ARN names; None when absent."""
    match = KMS_ARN.fullmatch(arn)
    if match is None:
        return None
    backend = _backend(match["account"], match["region"])
    if backend is None:
        return None
    key = _find(backend, match["kind"], match["name"])
    if key is None or key.arn.split(":")[1] != match["partition"]:
        return None
    return KmsKeyInfo(
        arn=key.arn,
        key_id=key.id,
        state=key.key_state,
        key_spec=key.key_spec,
        # moto keeps None when CreateKey omitted KeyUsage; KMS's default is ENCRYPT_DECRYPT.
        key_usage=key.key_usage or "ENCRYPT_DECRYPT",
    )
