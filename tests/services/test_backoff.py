"""Our backoff on ThrottlingException after botocore's own retries give up."""

from __future__ import annotations

from typing import Any

import pytest

from ahi.emulator.errors import ThrottlingException
from ahi.emulator.handlers import HANDLERS
from ahi.services.backoff import Backoff
from ahi.services.datastores import DatastoreService
from ahi.services.errors import AwsCallError
from ahi.services.session import AwsSession


def throttle_first(calls: int, operation: str, replace_handler: Any) -> list[int]:
    real = HANDLERS[operation]
    seen: list[int] = []

    def flaky(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        seen.append(1)
        if len(seen) <= calls:
            raise ThrottlingException("Rate exceeded")
        return real(ctx, params)

    replace_handler(operation, flaky)
    return seen


def test_throttled_calls_back_off_and_succeed(aws: AwsSession, replace_handler: Any) -> None:
    seen = throttle_first(2, "ListDatastores", replace_handler)
    sleeps: list[float] = []
    service = DatastoreService(aws.medical_imaging, Backoff(sleep=sleeps.append, jitter=lambda ceiling: ceiling))
    assert service.list() == []
    assert len(seen) == 3
    assert sleeps == [0.5, 1.0]
    assert [r.outcome for r in aws.call_log.records()] == ["ThrottlingException", "ThrottlingException", "OK"]


def test_backoff_gives_up_with_a_typed_error(aws: AwsSession, replace_handler: Any) -> None:
    throttle_first(99, "ListDatastores", replace_handler)
    sleeps: list[float] = []
    service = DatastoreService(aws.medical_imaging, Backoff(attempts=3, sleep=sleeps.append, jitter=lambda c: c))
    with pytest.raises(AwsCallError) as caught:
        service.list()
    assert (caught.value.operation, caught.value.code) == ("ListDatastores", "ThrottlingException")
    assert len(sleeps) == 2


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ValueError("boom")

    with pytest.raises(AwsCallError) as caught:
        Backoff(sleep=lambda s: None).call("Op", failing)
    assert (caught.value.code, len(calls)) == ("ValueError", 1)


def test_backoff_is_capped() -> None:
    sleeps: list[float] = []
    backoff = Backoff(attempts=8, base_s=1, cap_s=4, sleep=sleeps.append, jitter=lambda c: c)

    def throttled() -> None:
        raise AwsCallError("Op", "ThrottlingException", "slow down")

    with pytest.raises(AwsCallError):
        backoff.call("Op", throttled)
    assert sleeps == [1, 2, 4, 4, 4, 4, 4]
