"""One botocore data loader and one set of built-in event handlers per test process, shared by every session.

Each `boto3.session.Session()` builds its own loader and parses the service models (S3's is megabytes
of JSON) again: half a second to a second per client on a busy machine, and most tests make several
clients (theirs and the console's). The models are read-only files, so one loader (it caches what it
parsed) serves every session; what a session does with them is unchanged. Likewise each session
registers botocore's ~100 built-in handlers one by one (checking each one's signature): a copy of
one registered set gives the same handlers in the same order at a thirtieth of the cost.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.loaders
import botocore.session
from botocore.hooks import HierarchicalEmitter
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


_REGISTER_BUILTIN_HANDLERS = botocore.session.Session._register_builtin_handlers  # noqa: SLF001


@functools.cache
def _builtin_handlers() -> HierarchicalEmitter:
    """An emitter holding exactly what botocore's `_register_builtin_handlers` registers on a new session."""
    session = botocore.session.Session(include_builtin_handlers=False)
    _REGISTER_BUILTIN_HANDLERS(session, session._events)  # noqa: SLF001
    return session._original_handler  # noqa: SLF001


def _copy_builtin_handlers(session: botocore.session.Session, events: Any) -> None:
    """botocore's registration of its built-in handlers, as a copy when the session's emitter is still empty."""
    emitter = session._original_handler  # noqa: SLF001
    if type(emitter) is not HierarchicalEmitter or emitter._unique_id_handlers or emitter._handlers._root["children"]:  # noqa: SLF001
        _REGISTER_BUILTIN_HANDLERS(session, events)
        return
    template = _builtin_handlers()
    emitter._handlers = copy.copy(template._handlers)  # noqa: SLF001
    emitter._unique_id_handlers = copy.copy(template._unique_id_handlers)  # noqa: SLF001
    emitter._lookup_cache = {}  # noqa: SLF001


@contextmanager
def sessions_share_models() -> Iterator[None]:
    """While inside, every new botocore session takes its data loader from `shared_loader` and its built-in handlers from a copy."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared_loader)
        patch.setattr(botocore.session.Session, "_register_builtin_handlers", _copy_builtin_handlers)
        yield
