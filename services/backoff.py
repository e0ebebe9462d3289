"""Our own backoff on throttling (and on server faults of reads), for when botocore's standard retries give up."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from ahi.services.errors import AwsCallError

T = TypeVar("T")

THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
#: Server faults a read may be sent again after (a write may have been carried out before the fault).
SERVER_FAULT_CODES = frozenset({"InternalServerException", "InternalFailure", "InternalError", "ServiceUnavailable"})
READ_PREFIXES = ("Get", "List", "Search", "Describe")


def worth_retrying(operation: str, code: str) -> bool:
    """Throttling always; a server fault only on an operation that reads."""
    return code in THROTTLING_CODES or (code in SERVER_FAULT_CODES and operation.startswith(READ_PREFIXES))


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter (the AWS architecture blog's recommendation).

    It starts where botocore's standard retries (3 attempts) stop: throttling on any call, and a 500 on
    reads; a write that failed with a 500 is reported, not repeated (UpdateImageSetMetadata and
    CopyImageSet carry no clientToken).
    """

    attempts: int = 4
    base_s: float = 0.5
    cap_s: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float], float] = field(default=lambda ceiling: random.uniform(0, ceiling))

    def call(self, operation: str, fn: Callable[[], T]) -> T:
        """Run `fn`; on throttling (or a read's server fault) wait and try again; failures leave as AwsCallError."""
        for attempt in range(self.attempts):
            try:
                return fn()
            except Exception as exc:
                error = AwsCallError.from_exception(operation, exc)
                if not worth_retrying(operation, error.code) or attempt == self.attempts - 1:
                    raise error from exc
                self.sleep(self.jitter(min(self.cap_s, self.base_s * 2**attempt)))
        raise AssertionError("unreachable")
