"""Which endpoint's runtime a CloudFormation request works on, for moto's resource handlers.

moto's backends are process-wide and call resource handlers with an account and region only; the
gateway sets the runtime of the endpoint that received the request around moto's handling of it.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ahi.emulator.runtime import Runtime

CURRENT: contextvars.ContextVar[Runtime | None] = contextvars.ContextVar("ahi_cloudformation_runtime", default=None)


def current_runtime() -> Runtime | None:
    """The runtime of the CloudFormation request being handled in this thread, if any."""
    return CURRENT.get()
