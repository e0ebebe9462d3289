"""Our own backoff on ThrottlingException, for when botocore's standard retries give up."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from services.errors import AwsCallError

T = TypeVar("T")

THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter (the AWS architecture blog's recommendation)."""

    attempts: int = 4
    base_s: float = 0.5
    cap_s: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float], float] = field(default=lambda ceiling: random.uniform(0, ceiling))

    def call(self, operation: str, fn: Callable[[], T]) -> T:
        """Run `fn`; on throttling wait and try again; every failure leaves as an AwsCallError."""
        for attempt in range(self.attempts):
            try:
                return fn()
            except Exception as exc:
                error = AwsCallError.from_exception(operation, exc)
                if error.code not in THROTTLING_CODES or attempt == self.attempts - 1:
                    raise error from exc
                self.sleep(self.jitter(min(self.cap_s, self.base_s * 2**attempt)))
        raise AssertionError("unreachable")
