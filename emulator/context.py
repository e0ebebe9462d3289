"""What a handler knows about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ahi.emulator.runtime import Runtime


@dataclass(frozen=True)
class RequestContext:
    """Caller identity from the SigV4 scope plus the endpoint runtime (store, config, moto access)."""

    operation: str
    account_id: str
    region: str
    request_id: str
    runtime: "Runtime"
    #: The request's Accept header, for the one operation whose answer depends on it (GetImageFrame).
    accept: str | None = None
