"""The data access role last used to import into each data store, in `import-roles.json` beside the view state (docs/console-help.md).

A role ARN names a role, it grants nothing by itself: no secret is kept. Keyed by data store ID, so
the same console used on several accounts keeps one role per store. A missing or unreadable file
means nothing remembered; it is never an error.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ahi.tui.state_file import read_section, save_private

ROLES_FILE = "import-roles.json"


class ImportRoles:
    """Role ARN per data store ID; `remember` writes the file at once (call it off the UI thread)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._roles: dict[str, str] = self._load()

    def _load(self) -> dict[str, str]:
        if self.path is None:
            return {}
        roles = read_section(self.path, "roles")
        return {store: arn for store, arn in roles.items() if isinstance(store, str) and isinstance(arn, str)}

    def role_for(self, datastore_id: str) -> str | None:
        with self._lock:
            return self._roles.get(datastore_id)

    def remember(self, datastore_id: str, role_arn: str) -> None:
        """Keep `role_arn` as the data store's role and save the file (0600) when it changed."""
        with self._lock:
            if not datastore_id or not role_arn or self._roles.get(datastore_id) == role_arn:
                return
            self._roles[datastore_id] = role_arn
            document = {"roles": dict(sorted(self._roles.items()))}
        if self.path is not None:
            save_private(self.path, document, "the import roles")


_shared: dict[Path | None, ImportRoles] = {}


def import_roles(state_folder: Path | None) -> ImportRoles:
    """The one ImportRoles of a state folder (None: remembered for this run only)."""
    path = state_folder / ROLES_FILE if state_folder is not None else None
    if path not in _shared:
        _shared[path] = ImportRoles(path)
    return _shared[path]
