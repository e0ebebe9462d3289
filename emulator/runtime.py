"""The live state of one endpoint: its config, its SQLite store and its background work."""

from __future__ import annotations

from emulator.config import EndpointConfig
from emulator.store.db import Store


class Runtime:
    """Shared by every request of one endpoint; created by the server, handed to handlers via the context."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(config.state_dir / "state.sqlite3")

    def close(self) -> None:
        """Stop background work and close the store."""
        self.store.close()
