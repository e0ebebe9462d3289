"""Settings of one local endpoint instance."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_ACCOUNT_ID = "123456789012"
#: AWS refuses a signed request whose X-Amz-Date is more than 15 minutes from its clock.
DEFAULT_MAX_CLOCK_SKEW = 900.0


def default_state_dir() -> Path:
    """Where the endpoint keeps its SQLite state unless told otherwise."""
    return Path(platformdirs.user_data_dir("ahi")) / "local-endpoint"


def default_account_id() -> str:
    """moto's rule: MOTO_ACCOUNT_ID wins, else the default account (so our ARNs agree with S3 and KMS)."""
    return os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)


@dataclass
class EndpointConfig:
    """Everything that shapes one endpoint run; tests build one per fixture."""

    state_dir: Path = field(default_factory=default_state_dir)
    host: str = "127.0.0.1"
    port: int = 0
    account_id: str = field(default_factory=default_account_id)
    #: Seconds a new data store stays CREATING, and a deleted one DELETING.
    datastore_transition_seconds: float = 0.5
    #: Data stores per account and region that may be CREATING or ACTIVE at once (the service quota).
    max_active_datastores: int = 10
    #: Seconds an asynchronous image set write (update, copy, delete) stays LOCKED.
    imageset_lock_seconds: float = 0.3
    #: Verify SigV4 on every request, for every service on the port (docs/signatures.md).
    verify_signatures: bool = False
    #: Access key id -> secret, all in `account_id`; used when verify_signatures is on. Never in repr or logs.
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    #: One secret accepted for any access key id (tests), used when no other key matches.
    shared_secret: str | None = field(default=None, repr=False)
    #: Largest distance in seconds between X-Amz-Date and the clock (AWS: 15 minutes); None turns clock checks
    #: off, presigned URL expiry included, for clients with a frozen clock.
    max_clock_skew: float | None = DEFAULT_MAX_CLOCK_SKEW
    #: Seconds the tiering clock runs ahead of the real one from the start (docs/storage-tiers.md#the-endpoint-clock).
    clock_offset_seconds: float = 0.0
    #: Fault injection for medical-imaging requests (grammar in emulator/faults/spec.py); None injects none.
    faults: str | None = None
    #: Seed of the fault draws; None picks one at start (logged, and kept on `LocalEndpoint.faults`).
    faults_seed: int | None = None
