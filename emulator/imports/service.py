"""The background side of import jobs: one thread per running job, a shared pool for the files.

Started with the endpoint's runtime: jobs a stop or crash left SUBMITTED or IN_PROGRESS resume
(files already recorded are skipped, committed image sets stay); stopping interrupts running jobs
between files and waits for them, so nothing half-written is left behind.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ahi.emulator.store import import_jobs
from ahi.emulator.store.db import Store, StoreError
from ahi.emulator.store.frame_files import FrameFiles

if TYPE_CHECKING:
    from ahi.emulator.imports.runner import JobRunner

log = logging.getLogger("ahi.emulator.imports")

#: Files processed at once across all jobs; imagecodecs releases the GIL, so threads use every core.
FILE_WORKERS = max(2, (os.cpu_count() or 2) + 1)
STOP_WAIT_SECONDS = 30.0


class ImportService:
    """Runs import jobs in the background for one endpoint runtime."""

    def __init__(self, store: Store, frames: FrameFiles, now: object, before_s3: Callable[[], object]) -> None:
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=FILE_WORKERS, thread_name_prefix="ahi-import-file")
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._store = store
        self._frames = frames
        self._now = now
        #: Called in a job's thread before it reads S3: moto is loaded on first need, off the request path.
        self._before_s3 = before_s3
        self._runner: JobRunner | None = None
        self._runner_lock = threading.Lock()

    @property
    def runner(self) -> JobRunner:
        """Made on first use: the DICOM pipeline imports pydicom and numpy, which an endpoint with no job never needs."""
        with self._runner_lock:
            if self._runner is None:
                from ahi.emulator.imports.runner import JobRunner

                self._runner = JobRunner(
                    store=self._store,
                    frames=self._frames,
                    pool=self._pool,
                    now=self._now,  # type: ignore[arg-type]
                    stopping=self._stopping,
                    workers=FILE_WORKERS,
                )
            return self._runner

    def resume(self) -> list[str]:
        """Start every job a previous run left unfinished; returns their ids."""
        with self._store.read() as conn:
            jobs = import_jobs.unfinished_jobs(conn)
        for job in jobs:
            log.info("resuming import job %s", job.job_id)
            self.start(job.job_id)
        return [job.job_id for job in jobs]

    def start(self, job_id: str) -> None:
        """Run a job in its own thread (it is IN_PROGRESS as soon as the thread starts)."""
        with self._lock:
            if self._stopping.is_set() or job_id in self._threads:
                return
            thread = threading.Thread(target=self._run, args=(job_id,), name=f"ahi-import-{job_id[:8]}", daemon=True)
            self._threads[job_id] = thread
            thread.start()

    def _run(self, job_id: str) -> None:
        try:
            self._before_s3()
            self.runner.run(job_id)
        except Exception as exc:  # noqa: BLE001 - moto or the pipeline failed to load: the job still ends, visibly
            log.exception("import job %s could not run", job_id)
            self._fail(job_id, f"The import job failed because of an internal error ({type(exc).__name__})")
        finally:
            with self._lock:
                self._threads.pop(job_id, None)

    def _fail(self, job_id: str, message: str) -> None:
        """End a job FAILED when its runner could not (a job left SUBMITTED would be polled forever)."""
        try:
            with self._store.transaction() as tx:
                import_jobs.mark_ended(tx, job_id, "FAILED", self._now(), message)  # type: ignore[operator]
        except StoreError:
            log.warning("import job %s stays unfinished: the store is closed; it resumes at the next start", job_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for every running job to end (tests, the demo seed); False on timeout."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads)

    def stop(self) -> None:
        """Interrupt running jobs between steps and wait for them before the store closes."""
        self._stopping.set()
        self.wait(STOP_WAIT_SECONDS)
        self._pool.shutdown(wait=True, cancel_futures=True)
