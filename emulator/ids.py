"""Resource identifiers shaped like the real service's: 32 lowercase hex characters."""

from __future__ import annotations

import secrets


def new_id() -> str:
    """A fresh identifier for a data store, image set, job or image frame (pattern `[0-9a-z]{32}`)."""
    return secrets.token_hex(16)

