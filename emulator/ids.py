"""Resource identifiers shaped like the real service's: 32 lowercase hex characters."""

from __future__ import annotations

import re
import secrets

ID_PATTERN = re.compile(r"[0-9a-z]{32}")


def new_id() -> str:
    """A fresh identifier for a data store, image set, job or image frame (pattern `[0-9a-z]{32}`)."""
    return secrets.token_hex(16)


def is_id(value: str) -> bool:
    """Whether a string has the model's identifier form."""
    return ID_PATTERN.fullmatch(value) is not None
