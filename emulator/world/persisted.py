"""One state directory's copy of moto's world: loaded into moto once, saved after every write before it is answered.

moto's state is process-wide, so writes to it (requests, and the endpoint's own in-process writes
such as an import job's outputs) take one process-wide lock, and each is on disk before its answer
leaves: what a client saw acknowledged survives a kill -9. Reads take no lock. How the world is laid
out on disk and what it does not cover is in docs/local-world.md.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ahi.emulator.world.blobs import Bodies
from ahi.emulator.world.files import FOLDER, private_folder
from ahi.emulator.world.requests import action_of, is_read, s3_target
from ahi.emulator.world.s3_files import S3Files
from ahi.emulator.world.services import SERVICES, ServiceFiles

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("ahi.emulator.world")

#: Every write to moto, and every save, holds this: moto's backends are shared by the whole process.
WRITE_LOCK = threading.RLock()
_RESET = "moto-api-reset"
_loaded: weakref.WeakSet[PersistedWorld] = weakref.WeakSet()


class PersistedWorld:
    """The `world/` folder of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        root = private_folder(Path(state_dir) / FOLDER)
        self.bodies = Bodies(root / "s3" / "bodies")
        self.s3 = S3Files(root / "s3", self.bodies)
        self.services = ServiceFiles(root / SERVICES, self.bodies)

    def load(self) -> None:
        """Put the saved world into moto; from then on this process's own S3 writes are saved here too."""
        started = time.perf_counter()
        with WRITE_LOCK:
            services = self.services.load()
            objects = self.s3.load()
            _loaded.add(self)
        if services or objects:
            log.info("local world: %d S3 objects and %s loaded in %.2f s", objects,
                     ", ".join(services) or "no other service", time.perf_counter() - started)

    def save_all(self) -> None:
        """Save every S3 object that differs from disk (after the demo world was put back in-process)."""
        with WRITE_LOCK:
            self.s3.save_all()

    def close(self) -> None:
        """Stop saving in-process writes here (the endpoint stopped)."""
        _loaded.discard(self)

    def serve(self, app: WSGIApplication, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer through moto; a write is saved before its answer is returned (and so before it is sent)."""
        change = self._change(app, environ)
        if change is None:
            return app(environ, start_response)
        with WRITE_LOCK:
            answer = app(environ, start_response)
            if change == _RESET:
                self.s3.clear()
                self.services.clear()
            elif change == "s3":
                bucket, key = s3_target(environ, set(_s3_bucket_names()))
                self.s3.save(bucket, key)
            else:
                self.services.save(change)
            return answer

    def _change(self, app: Any, environ: WSGIEnvironment) -> str | None:
        """The moto service a request may change (`_RESET` for a reset of all of moto), None for a read."""
        path = str(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if path.startswith("/moto-api"):
            return _RESET if method == "POST" and path.rstrip("/") == "/moto-api/reset" else None
        with app.lock:
            service = app.get_backend_for_host(app.infer_service_region_host(environ, path))
        if not isinstance(service, str) or service == "moto_api":
            return None
        if service == "s3":
            return None if is_read("s3", method, None) else "s3"
        return None if is_read(service, method, action_of(environ, _form_body(environ))) else service


def _form_body(environ: WSGIEnvironment) -> bytes:
    """A query-protocol form body (it names the action), read and put back for moto; other bodies are not read."""
    if environ.get("HTTP_X_AMZ_TARGET") or not str(environ.get("CONTENT_TYPE", "")).startswith(
        "application/x-www-form-urlencoded"
    ):
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _s3_bucket_names() -> Iterator[str]:
    from moto.s3.models import s3_backends

    return iter(list(s3_backends.bucket_accounts))


@contextmanager
def s3_write_in_process(bucket: str, key: str) -> Iterator[None]:
    """Around a write this process makes to moto's S3 itself (an import job's outputs): saved by every loaded world.

    Every world loaded in the process sees the same moto, so each saves the object.
    """
    with WRITE_LOCK:
        yield
        for world in list(_loaded):
            world.s3.save(bucket, key)
