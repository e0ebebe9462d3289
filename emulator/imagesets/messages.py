"""Texts for the `message` member of an image set version (after a failed update or copy)."""

from __future__ import annotations

import re

#: The model's `Message` shape: pattern `[\w -:`]+` (word characters, space to colon, backtick), 1-2048.
_OUTSIDE_PATTERN = re.compile(r"[^\w -:`]")
MAX_LENGTH = 2048


def version_message(text: str) -> str:
    """`text` made to fit the model's Message shape: disallowed characters become spaces, cut to length."""
    cleaned = _OUTSIDE_PATTERN.sub(" ", text).strip() or "INTERNAL_ERROR"
    return cleaned[:MAX_LENGTH]


def invalid_request(reason: str) -> str:
    """A failure the caller can fix, phrased as the service's own (`INVALID_REQUEST: ...`)."""
    return version_message(f"INVALID_REQUEST: {reason}")
