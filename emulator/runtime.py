"""The live state of one endpoint: its config, its SQLite store and its background work."""

from __future__ import annotations

import os
import time
from typing import Callable

from ahi.emulator.config import EndpointConfig
from ahi.emulator.events.saved_rules import load_moto_for_saved_rules
from ahi.emulator.imagesets.locks import ImageSetLocks
from ahi.emulator.imports.service import ImportService
from ahi.emulator.moto_world import MotoWorld
from ahi.emulator.store import access, dicomweb_index
from ahi.emulator.store.db import Store
from ahi.emulator.store.frame_files import FrameFiles
from ahi.emulator.world.services import has_saved


class Runtime:
    """Shared by every request of one endpoint; created by the server, handed to handlers via the context."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(config.state_dir, 0o700)
        self.store = Store(config.state_dir / "state.sqlite3")
        # Image sets of a state directory older than the DICOMweb index are indexed once (docs/dicomweb.md#the-instance-index).
        dicomweb_index.index_backlog(self.store.transaction)
        # The tiering clock starts where the configuration says, not where a previous run left it.
        with self.store.transaction() as tx:
            access.set_clock_offset(tx, config.clock_offset_seconds)
        #: Seconds since the epoch; timed transitions are derived from it, so tests may replace it.
        self.clock: Callable[[], float] = time.time
        #: Frame bytes of image sets, as files beside the database.
        self.frames = FrameFiles(config.state_dir)
        #: moto (S3, KMS, ...), loaded on first need with the demo world's keys and buckets put back.
        self.moto = MotoWorld(self.store, config.state_dir)
        #: A user's EventBridge rules saved by an earlier run fire without waiting for a request that loads moto.
        load_moto_for_saved_rules(config.state_dir, self.moto.ready)
        if config.verify_signatures and has_saved(config.state_dir, "iam", "sts"):
            self.moto.ready()  # the first request may be signed with a key IAM or STS issued before the restart
        #: Import jobs run in the background; jobs a previous run left unfinished resume now.
        self.imports = ImportService(self.store, self.frames, self.now, before_s3=self.moto.ready)
        self.imports.resume()
        #: Update, copy and delete unlock image sets in the background; writes a previous run left LOCKED settle now.
        self.image_set_locks = ImageSetLocks(self.store, self.frames, self.now)
        self.image_set_locks.start()

    def now(self) -> float:
        """The endpoint's current time in whole milliseconds, the precision the service shows.

        Every stored time comes from here, so what a response shows can be fed back as a search bound.
        """
        return round(self.clock() * 1000) / 1000

    def close(self) -> None:
        """Stop background work and close the store."""
        self.imports.stop()
        self.image_set_locks.stop()
        self.moto.close()
        self.store.close()
