"""The console's small JSON state files (remembered sorts, import roles): one object per file, private to the user.

A preference that cannot be read or saved must never stop the console: reading gives nothing, saving logs a warning.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ahi.services.atomic_file import atomic_text_file

log = logging.getLogger("ahi.console")


def read_section(path: Path, key: str) -> dict[Any, Any]:
    """The `key` object of the file's top-level object; empty when the file is missing, unreadable or not so shaped."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    section = document.get(key) if isinstance(document, dict) else None
    return section if isinstance(section, dict) else {}


def save_private(path: Path, document: dict[str, Any], what: str) -> None:
    """Write `document` whole or not at all, readable by the user only (0600); a failure is logged as `what`."""
    try:
        with atomic_text_file(path) as out:
            json.dump(document, out, indent=2)
        path.chmod(0o600)
    except OSError as exc:
        log.warning("could not save %s to %s: %s", what, path, exc)
