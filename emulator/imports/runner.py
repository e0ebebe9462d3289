"""One import job from SUBMITTED to COMPLETED or FAILED.

The job lists the input prefix, processes the files it has not recorded yet (a resumed job skips the
ones a previous run finished), groups the instances into image sets and commits each image set, with
the records of its files, in one transaction. The output files are written from those records, so a
job resumed after a restart reports every file exactly once.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.grouping import ImageSetDraft, group_instances
from ahi.emulator.dicom.instance import FileOutcome, ProcessedInstance
from ahi.emulator.dicom.limits import MAX_FILE_BYTES, mib
from ahi.emulator.dicom.spill import MetadataSpill
from ahi.emulator.events.details import image_set_created, job_changed
from ahi.emulator.imagesets.primary import MemberCache
from ahi.emulator.imports import s3io
from ahi.emulator.imports.metadata_mappings import mappings_of
from ahi.emulator.imports.metadata_overrides import MetadataOverrides
from ahi.emulator.imports.outputs import FAILURE, SUCCESS, folder_location, output_files
from ahi.emulator.imports.pipeline import Committed, DatastoreNotActive, Destination, Interrupted, Pipeline
from ahi.emulator.imports.s3io import InputObject, ObjectTooLarge, S3AccessError, S3Location
from ahi.emulator.store import import_jobs
from ahi.emulator.store.db import Store
from ahi.emulator.store.frame_files import FrameFiles
from ahi.emulator.store.import_configurations import get_configuration
from ahi.emulator.store.imagesets import image_sets_of_job
from ahi.emulator.store.import_jobs import FileRecord, ImportJob

log = logging.getLogger("ahi.emulator.imports")

#: docs/service.md#quotas (the newer edition's values): files per job, nested folders, bytes per job and per file.
MAX_FILES = 5000
MAX_FOLDERS = 10_000
MAX_JOB_BYTES = 10 * 1024**3
#: Failure records are written in batches of this many.
RECORD_BATCH = 64
_MESSAGE_FORBIDDEN = re.compile(r"[^\w \-:`!\"#$%&'()*+,./0-9]")


def _too_large(size: int) -> FileFailure:
    return FileFailure(
        f"The file is {mib(size)}, over the {mib(MAX_FILE_BYTES)} size quota for one DICOM P10 file of an import "
        "job; it is not read"
    )


class JobFailure(Exception):
    """The whole job fails; the message (naming the bucket where one is at fault) goes to `message`."""


class JobInterrupted(Exception):
    """The endpoint is stopping; the job stays IN_PROGRESS and resumes at the next start."""


def job_message(text: str) -> str:
    """A job message the model's pattern `[\\w -:`]+` accepts (other characters become spaces)."""
    return _MESSAGE_FORBIDDEN.sub(" ", text).strip()[:2048] or "The import job failed"


@dataclass
class JobRunner:
    """Runs jobs against one store and frame directory; `stopping` interrupts them between steps."""

    store: Store
    frames: FrameFiles
    pool: ThreadPoolExecutor
    now: Callable[[], float]
    stopping: threading.Event
    workers: int
    #: Per running job, what placing its series has read of the primary image sets (docs/primary-image-sets.md).
    _members: dict[str, MemberCache] = field(default_factory=dict, init=False, repr=False)
    #: The steps a job shares with a DICOMweb store (emulator/imports/pipeline.py).
    pipeline: Pipeline = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.store, self.frames, self.now, self.stopping)

    def run(self, job_id: str) -> None:
        """Run (or resume) a job to its end; returns early, job unfinished, when interrupted."""
        with self.store.transaction() as tx:
            import_jobs.mark_started(tx, job_id, self.now())
            job = import_jobs.get_job(tx, job_id)
        assert job is not None
        job_changed(job, "IN_PROGRESS")
        try:
            self._run(job)
        except JobInterrupted:
            log.info("import job %s interrupted; it resumes at the next start", job_id)
            return
        except (JobFailure, S3AccessError) as failure:
            self._end(job, "FAILED", str(failure))
            return
        except Exception as exc:  # noqa: BLE001 - a bug must still end the job visibly
            log.exception("import job %s failed unexpectedly", job_id)
            self._end(job, "FAILED", f"The import job failed because of an internal error ({type(exc).__name__})")
            return
        self._end(job, "COMPLETED", None)

    def _end(self, job: ImportJob, status: str, message: str | None) -> None:
        with self.store.transaction() as tx:
            import_jobs.mark_ended(
                tx, job.job_id, status, self.now(), None if message is None else job_message(message)
            )
            self.frames.discard_orphans(tx, job.job_id)
        job_changed(job, status)

    def _run(self, job: ImportJob) -> None:
        objects = self._inputs(job)
        with self.store.read() as conn:
            done = {record.input_file for record in import_jobs.file_records(conn, job.job_id)}
            self.frames.discard_orphans(conn, job.job_id)
        overrides = self._overrides(job, objects)
        todo = [item for item in objects if item.key not in done and item.key not in overrides.metadata_keys]
        input_bucket = S3Location.parse(job.input_s3_uri).bucket
        spill = MetadataSpill()
        try:
            instances = self._process(job, input_bucket, todo, spill, overrides)
            self._members[job.job_id] = {}
            for draft in group_instances(instances):
                self._check_stopping()
                self._commit(job, draft)
        finally:
            spill.close()
            self._members.pop(job.job_id, None)
        self._record(job, overrides.leftover_records(done, resumed=bool(done)))
        self._write_outputs(job)

    def _overrides(self, job: ImportJob, objects: list[InputObject]) -> MetadataOverrides:
        """The job's metadata mappings with their files read (docs/import-configuration.md); none without any."""
        with self.store.read() as conn:
            configuration = get_configuration(conn, job.job_id)
        return MetadataOverrides.load(job.input_s3_uri, mappings_of(configuration), objects)

    def _inputs(self, job: ImportJob) -> list[InputObject]:
        """Check both locations and list the input; anything wrong fails the job naming the bucket."""
        source = S3Location.parse(job.input_s3_uri)
        owner = s3io.bucket_owner(source.bucket, "input")
        if job.input_owner_account_id and owner != job.input_owner_account_id:
            raise JobFailure(
                f"The input bucket {source.bucket} is not owned by account {job.input_owner_account_id} "
                "given as inputOwnerAccountId"
            )
        s3io.check_writable(folder_location(job).bucket)
        objects = s3io.list_input(source)
        if not objects:
            raise JobFailure(f"The input location {job.input_s3_uri} in bucket {source.bucket} holds no objects")
        if len(objects) > MAX_FILES:
            raise JobFailure(
                f"The input location {job.input_s3_uri} holds {len(objects)} files, more than the {MAX_FILES} "
                "an import job accepts"
            )
        folders = {item.key.rsplit("/", 1)[0] for item in objects if "/" in item.key}
        if len(folders) > MAX_FOLDERS:
            raise JobFailure(f"The input location {job.input_s3_uri} has more than {MAX_FOLDERS} nested folders")
        total = sum(item.size for item in objects)
        if total > MAX_JOB_BYTES:
            raise JobFailure(f"The input location {job.input_s3_uri} holds {total} bytes, more than 10 GB")
        return objects

    def _process(
        self, job: ImportJob, bucket: str, todo: list[InputObject], spill: MetadataSpill, overrides: MetadataOverrides
    ) -> list[ProcessedInstance]:
        """Process files in the pool; failures are recorded as they come, instances parked for grouping."""
        instances: list[ProcessedInstance] = []
        pending_records: list[FileRecord] = []
        for processed in self._outcomes(job, bucket, todo):
            outcome = overrides.apply(processed)
            if outcome.instance is not None:
                outcome.instance.park(spill)
                instances.append(outcome.instance)
                continue
            failure = outcome.failure
            assert failure is not None
            pending_records.append(
                FileRecord(outcome.input_file, FAILURE, None, failure.customer, failure.to_exception())
            )
            if len(pending_records) >= RECORD_BATCH:
                self._record(job, pending_records)
        self._record(job, pending_records)
        return instances

    def _outcomes(self, job: ImportJob, bucket: str, todo: list[InputObject]) -> Iterator[FileOutcome]:
        """Outcomes in input order, with a bounded number of files in flight (memory stays flat)."""
        window = max(2, self.workers * 2)
        queue: list[Future[FileOutcome]] = []
        items = iter(todo)
        lossless_format = self._lossless_format(job)
        while True:
            while len(queue) < window:
                item = next(items, None)
                if item is None:
                    break
                queue.append(self.pool.submit(self._one_file, job.job_id, bucket, item, lossless_format))
            if not queue:
                return
            outcome = queue.pop(0).result()
            self._check_stopping()
            yield outcome

    def _lossless_format(self, job: ImportJob) -> str | None:
        """The data store's `losslessStorageFormat`, which transcoded frames are stored in (docs/stored-syntaxes.md)."""
        return self.pipeline.lossless_format(job.account_id, job.region, job.datastore_id)

    def _one_file(self, job_id: str, bucket: str, item: InputObject, lossless_format: str | None = None) -> FileOutcome:
        """Read, process and stage one file's frames (runs in the pool); memory stays bounded per file."""
        if self.stopping.is_set():
            return FileOutcome(item.key, failure=FileFailure("interrupted", customer=False))
        if item.size > MAX_FILE_BYTES:
            return FileOutcome(item.key, failure=_too_large(item.size))
        try:
            stream = s3io.open_object(bucket, item.key, MAX_FILE_BYTES)
        except S3AccessError as error:
            return FileOutcome(item.key, failure=FileFailure(str(error)))
        except ObjectTooLarge as error:
            return FileOutcome(item.key, failure=_too_large(error.size))

        with stream:
            return self.pipeline.process(job_id, item.key, stream, lossless_format)

    def _record(self, job: ImportJob, records: list[FileRecord]) -> None:
        if records:
            with self.store.transaction() as tx:
                import_jobs.record_files(tx, job.job_id, records)
            records.clear()

    def _commit(self, job: ImportJob, draft: ImageSetDraft) -> None:
        """One image set, its frames and its files' records: all visible at once, or not at all."""

        def record(tx: sqlite3.Connection, committed: Committed) -> None:
            succeeded = [
                FileRecord(
                    instance.input_file,
                    SUCCESS,
                    committed.image_set_id,
                    False,
                    [caveat.to_json() for caveat in instance.caveats] or None,
                )
                for instance in committed.instances
            ]
            import_jobs.record_files(tx, job.job_id, succeeded + _overflow_records(committed))

        destination = Destination(job.account_id, job.region, job.datastore_id, job.job_id, job.job_id)
        try:
            committed = self.pipeline.commit(destination, draft, self._members.get(job.job_id), record)
        except Interrupted:
            raise JobInterrupted() from None
        except DatastoreNotActive as gone:
            raise JobFailure(str(gone)) from None
        if not committed.instances:
            self._record(job, _overflow_records(committed))
        elif committed.image_set_id is not None:
            image_set_created(job, committed.image_set_id, committed.version, committed.is_primary)

    def _write_outputs(self, job: ImportJob) -> None:
        with self.store.read() as conn:
            records = import_jobs.file_records(conn, job.job_id)
            image_sets = image_sets_of_job(conn, job.job_id)
        folder = folder_location(job)
        for name, body in output_files(job, records, image_sets).items():
            s3io.write_object(folder.bucket, folder.prefix + name, body)

    def _check_stopping(self) -> None:
        if self.stopping.is_set():
            raise JobInterrupted()


def _overflow_records(committed: Committed) -> list[FileRecord]:
    """FAILURE records of the instances that did not fit the image set's metadata quota."""
    return [
        FileRecord(instance.input_file, FAILURE, None, failure.customer, failure.to_exception())
        for instance, failure in committed.overflow
    ]
