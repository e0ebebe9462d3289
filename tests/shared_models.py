"""One botocore data loader per test process, shared by every boto3/botocore session made in it.

Each `boto3.session.Session()` builds its own loader and parses the service models (S3's is megabytes
of JSON) again: half a second to a second per client on a busy machine, and most tests make several
clients (theirs and the console's). The models are read-only files, so one loader (it caches what it
parsed) serves every session; what a session does with them is unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.loaders
import botocore.session
import pytest


class _DistinctPaths(list):  # type: ignore[type-arg]
    """Search paths that keep each folder once: every boto3 Session appends its own data folder."""

    def append(self, path: Any) -> None:
        if path not in self:
            super().append(path)


@functools.cache
def shared_loader(data_path: str | None = None) -> botocore.loaders.Loader:
    """The process's loader for `data_path` (botocore's own factory, its search paths kept distinct)."""
    loader = botocore.loaders.create_loader(data_path)
    loader._search_paths = _DistinctPaths(loader.search_paths)  # noqa: SLF001 - the list boto3 appends to
    return loader


@contextmanager
def sessions_share_models() -> Iterator[None]:
    """While inside, every new botocore session takes its data loader from `shared_loader`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared_loader)
        yield
