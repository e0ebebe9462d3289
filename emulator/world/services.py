"""Every moto service but S3 as one file each, `world/services/<name>.pickle`, rewritten whole after a write.

KMS, IAM, STS and the like hold little (a key is a few hundred bytes), so saving a service whole is
cheap, and it keeps what a replay of requests could not: ids and key material moto drew at random.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

from ahi.emulator.world import codec
from ahi.emulator.world.blobs import Bodies
from ahi.emulator.world.files import FOLDER, drop_partial_files, private_folder, remove_file, write_whole

SUFFIX = ".pickle"
SERVICES = "services"
log = logging.getLogger("ahi.emulator.world")


def has_saved(state_dir: Path, *names: str) -> bool:
    """Whether the state directory's saved world holds any of these moto services (read without loading moto)."""
    folder = Path(state_dir) / FOLDER / SERVICES
    return any((folder / f"{name}{SUFFIX}").is_file() for name in names)


def _backends(name: str) -> Any:
    from moto.backends import get_backend

    return get_backend(name)  # type: ignore[call-overload]


class ServiceFiles:
    """The saved services of one world."""

    def __init__(self, folder: Path, bodies: Bodies) -> None:
        self.folder = private_folder(folder)
        drop_partial_files(self.folder)
        self._bodies = bodies

    def save(self, name: str) -> None:
        """Write the service's state in every account and region moto holds for it."""
        backends = _backends(name)
        state = {account: dict(dict.items(regions)) for account, regions in list(dict.items(backends))}
        try:
            data, _ = codec.dumps(state, self._bodies)
        except (TypeError, AttributeError, pickle.PicklingError) as error:  # a value codec.py cannot carry (a local function)
            log.warning("moto's %s state cannot be saved (%s); it will not survive a restart", name, error)
            return
        write_whole(self.folder / f"{name}{SUFFIX}", lambda handle: handle.write(data))

    def load(self) -> list[str]:
        """Put every saved service back into moto, replacing what moto holds for those accounts and regions."""
        loaded = []
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            name = path.name.removesuffix(SUFFIX)
            try:
                state, _ = codec.loads(path.read_bytes(), self._bodies)
            except Exception as error:  # noqa: BLE001 - one service that cannot load must not keep S3 and KMS from loading
                log.error("moto's saved %s state cannot be loaded (%s: %s); it starts empty", name,
                          type(error).__name__, error)
                continue
            backends = _backends(name)
            for account, regions in state.items():
                per_account = backends[account]
                for region, backend in regions.items():
                    dict.__setitem__(per_account, region, backend)
            loaded.append(name)
        return loaded

    def clear(self) -> None:
        """Forget every saved service (moto was reset)."""
        for path in self.folder.glob(f"*{SUFFIX}"):
            remove_file(path)
