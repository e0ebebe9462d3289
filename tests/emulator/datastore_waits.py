"""Shared by the data store, tag, persistence and CLI tests: create data stores and wait on their status."""

from __future__ import annotations

import time
from typing import Any

ACCOUNT = "123456789012"


def wait_for_status(mi: Any, datastore_id: str, status: str, timeout: float = 5.0) -> dict[str, Any]:
    """Poll GetDatastore until the data store reaches `status`; its properties then."""
    deadline = time.monotonic() + timeout
    while True:
        properties = mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]
        if properties["datastoreStatus"] == status:
            return properties
        if time.monotonic() > deadline:
            raise AssertionError(f"{datastore_id} stayed {properties['datastoreStatus']}, wanted {status}")
        time.sleep(0.02)


def active_datastore(mi: Any, **kwargs: Any) -> dict[str, Any]:
    """Create a data store and wait until it is ACTIVE; its properties."""
    created = mi.create_datastore(**{"datastoreName": "test-store", **kwargs})
    return wait_for_status(mi, created["datastoreId"], "ACTIVE")


def error_of(exc_info: Any) -> tuple[str, int, str]:
    """(code, HTTP status, message) of a botocore ClientError."""
    response = exc_info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]
