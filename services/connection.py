"""The console's one door to AWS: session, local endpoint, account, backoff and every service.

Screens ask this object for services and never see a boto3 client. A profile or region switch
replaces the session inside it, so a screen keeps the same object across switches.

Each service module is imported inside its accessor: image sets and frames pull in pydicom,
numpy and imagecodecs, which the first screen never needs (start-up time is a goal).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ahi.services.backoff import Backoff
from ahi.services.call_log import CallLog
from ahi.services.local_endpoint import LocalEndpointRun, LocalEndpointUnavailable
from ahi.services.session import MEDICAL_IMAGING, AwsSession, ConnectionSettings, EndpointOrigin

if TYPE_CHECKING:
    from ahi.services.datastores import DatastoreService
    from ahi.services.dicomweb import DicomwebService
    from ahi.services.frames import FrameCache, FrameFetcher
    from ahi.services.imagesets import ImageSetService
    from ahi.services.import_job_list import ImportJobService
    from ahi.services.imports import JobFolderReader, LineSpan
    from ahi.services.input_objects import InputObjects
    from ahi.services.s3_prefixes import S3PrefixLister
    from ahi.services.kms import KmsService
    from ahi.services.reimport import ReimportPlan, ReimportResult
    from ahi.services.s3_location import S3Problem, S3Uri
    from ahi.services.tags import TagService
    from ahi.services.call_log import CliContext

#: Longest a worker waits for the local endpoint to serve before its call fails.
LOCAL_START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class AccountLookup:
    """Who the session's caller is (None when STS did not say), and where its requests go."""

    session: AwsSession
    account_id: str | None
    endpoint: str
    local: bool


class _SessionServices:
    """The service objects of one session, created on first use (client creation costs time)."""

    def __init__(self, aws: AwsSession, backoff: Backoff) -> None:
        self.aws = aws
        self.backoff = backoff

    @cached_property
    def datastores(self) -> DatastoreService:
        from ahi.services.datastores import DatastoreService

        return DatastoreService(self.aws.medical_imaging, self.backoff)

    @cached_property
    def tags(self) -> TagService:
        from ahi.services.tags import TagService

        return TagService(self.aws.medical_imaging, self.backoff)

    @cached_property
    def kms(self) -> KmsService:
        from ahi.services.kms import KmsService

        return KmsService(self.aws.kms, self.backoff)

    @cached_property
    def imagesets(self) -> ImageSetService:
        from ahi.services.imagesets import ImageSetService

        return ImageSetService(
            self.aws.medical_imaging, self.backoff, self.aws.account_id, writes_client=self.aws.medical_imaging_writes
        )

    @cached_property
    def dicomweb(self) -> DicomwebService:
        from ahi.services.dicomweb import DicomwebService

        return DicomwebService.for_session(self.aws, self.backoff)

    @cached_property
    def imports(self) -> ImportJobService:
        from ahi.services.import_job_list import ImportJobService

        return ImportJobService(self.aws.medical_imaging, self.aws.client("s3"), self.backoff)


class Connection:
    """Every AWS call of the console goes through here; one per console, kept across switches."""

    def __init__(self, aws: AwsSession, backoff: Backoff | None = None, local: LocalEndpointRun | None = None) -> None:
        self.backoff = backoff or Backoff()
        self.call_log: CallLog = aws.call_log
        #: The `ahi --local` endpoint process, started by `start_local` (None: an endpoint the user runs).
        self.local = local
        self._services = _SessionServices(aws, self.backoff)
        self._frame_cache: FrameCache | None = None
        self._lock = threading.Lock()
        self._siblings: dict[ConnectionSettings, Connection] = {}
        #: Set once the session is usable (at once, unless the local endpoint is starting).
        self._ready = threading.Event()
        self._failure: str | None = None
        #: A thread that must never wait for the local endpoint (the console's UI loop).
        self._never_wait: int | None = None
        if local is None:
            self._ready.set()

    @classmethod
    def for_settings(
        cls, settings: ConnectionSettings, call_log: CallLog | None = None, backoff: Backoff | None = None,
        local: LocalEndpointRun | None = None,
    ) -> Connection:
        return cls(AwsSession(settings, call_log), backoff, local)  # fmt: skip

    # --- the session --------------------------------------------------------------------------------

    @property
    def aws(self) -> AwsSession:
        """The current session; a worker waits here while the local endpoint starts."""
        return self._current().aws

    @property
    def settings(self) -> ConnectionSettings:
        """What the current session was made from (never waits)."""
        return self._services.aws.settings

    @property
    def profile(self) -> str:
        return self._services.aws.profile

    @property
    def region(self) -> str | None:
        return self._services.aws.region

    def never_wait_on_this_thread(self) -> None:
        """The calling thread (an event loop) gets the current session at once, even while the endpoint starts."""
        self._never_wait = threading.get_ident()

    def switch(self, settings: ConnectionSettings, *, same_profile: bool = False) -> None:
        """Use new settings from now on: a new session (same call log and backoff) and an empty frame cache.

        `same_profile`: the new session reuses the service models the current one has loaded.
        Raises what botocore raises for an unknown profile or a bad config, leaving the old session in use.
        """
        models_from = self._services.aws if same_profile else None
        services = _SessionServices(AwsSession(settings, self.call_log, models_from), self.backoff)
        with self._lock:
            self._services, self._frame_cache = services, None

    def sibling(self, settings: ConnectionSettings) -> Connection:
        """A connection on other settings (a fleet's profile and region): same call log and backoff, kept for reuse.

        Each (profile, region, endpoint) gets one session, made on first use and kept while this connection
        lives, so a fleet refresh reuses its clients and each region's remembered job counts.
        """
        if settings == self.settings:
            return self
        with self._lock:
            sibling = self._siblings.get(settings)
            if sibling is None:
                current = self._services.aws
                models_from = current if settings.profile == current.settings.profile else None
                sibling = Connection(AwsSession(settings, self.call_log, models_from), self.backoff)
                self._siblings[settings] = sibling
            return sibling

    def available_regions(self) -> list[str]:
        """Regions with HealthImaging, plus the current one."""
        aws = self._services.aws
        regions = aws.boto_session.get_available_regions(MEDICAL_IMAGING) or []
        return sorted({*regions, *([aws.region] if aws.region else [])})

    def cli_context(self, service: str = MEDICAL_IMAGING) -> CliContext:
        """The connection flags an equivalent AWS CLI command line needs."""
        return self.aws.cli_context(service)

    def _current(self) -> _SessionServices:
        """The current session's services, once usable; raises if the local endpoint never came."""
        if not (self._ready.is_set() and self._failure is None) and threading.get_ident() != self._never_wait:
            if not self._ready.wait(LOCAL_START_TIMEOUT_S):
                raise LocalEndpointUnavailable(f"the local endpoint did not start within {LOCAL_START_TIMEOUT_S:g} s")
            if self._failure is not None:
                raise LocalEndpointUnavailable(self._failure)
        with self._lock:
            return self._services

    # --- the local endpoint (`ahi --local`) -----------------------------------------------------------

    @property
    def starting_local(self) -> bool:
        """True until the local endpoint serves (or failed to start)."""
        return not self._ready.is_set()

    @property
    def local_failure(self) -> str | None:
        return self._failure

    def start_local(self) -> str:
        """Wait for the local endpoint to serve and use it; blocks (run it in a worker). Returns its URL."""
        assert self.local is not None, "no local endpoint to start"
        try:
            # While the endpoint starts: load the medical-imaging model, which the first listing's client needs (docs/startup.md).
            self._services.aws.client(MEDICAL_IMAGING)
            url = self.local.start()
            self.switch(replace(self.settings, endpoint_url=url, endpoint_origin=EndpointOrigin.LOCAL), same_profile=True)
        except Exception as exc:
            self._failure = f"the local endpoint did not start: {exc}"
            raise
        finally:
            self._ready.set()
        return url

    def seed_demo(self, on_progress: Callable[[str], None]) -> None:
        """Create the demo world when the endpoint wants it, then wait for its imports; notes go to `on_progress`."""
        local = self.local
        if local is None or not local.seed_wanted:
            return
        jobs = local.start_demo(
            lambda: on_progress("Demo data stores created; making and importing the demo studies…"), self.aws.models_loader
        )
        if jobs is None:
            return
        on_progress("Demo imports are running (:jobs shows them).")
        local.settle_demo(jobs)
        on_progress("Demo imports finished.")

    def stop_local(self) -> None:
        """Stop the local endpoint process (if any); safe to call twice."""
        if self.local is not None:
            self.local.stop()

    # --- who we are -----------------------------------------------------------------------------------

    def lookup_account(self) -> AccountLookup:
        """STS GetCallerIdentity on the current session (a failure leaves the account None)."""
        aws = self.aws
        return AccountLookup(aws, aws.account_id(), aws.endpoint_url, aws.is_local)

    # --- the services ---------------------------------------------------------------------------------

    @property
    def datastores(self) -> DatastoreService:
        return self._current().datastores

    @property
    def tags(self) -> TagService:
        return self._current().tags

    @property
    def kms(self) -> KmsService:
        return self._current().kms

    @property
    def imagesets(self) -> ImageSetService:
        return self._current().imagesets

    @property
    def dicomweb(self) -> DicomwebService:
        """SigV4-signed DICOMweb requests (GetDICOMInstance) on the session's credentials and region."""
        return self._current().dicomweb

    @property
    def imports(self) -> ImportJobService:
        """Import jobs and their outputs in S3 (the jobs screens)."""
        return self._current().imports

    @property
    def frame_cache(self) -> FrameCache:
        """Decoded frames shared by every preview of this session (an LRU bounded in bytes); never waits."""
        from ahi.services.frames import FrameCache

        with self._lock:
            if self._frame_cache is None:
                self._frame_cache = FrameCache()
            return self._frame_cache

    def frame_fetcher(self, datastore_id: str, max_bytes: int | None = None) -> FrameFetcher:
        """GetImageFrame for one data store, on the session current at each call (a worker calls it)."""
        from ahi.services.frames import MAX_FRAME_BYTES, get_image_frame_bytes

        limit = MAX_FRAME_BYTES if max_bytes is None else max_bytes
        return lambda key: get_image_frame_bytes(self.aws.medical_imaging, datastore_id, key.image_set_id, key.frame_id, limit)

    def job_counts(self, datastore_id: str) -> dict[str, int]:
        """Import jobs of a data store counted by status (every status present, zero or not)."""
        from ahi.services.import_jobs import count_jobs_by_status

        return count_jobs_by_status(self.aws.medical_imaging, datastore_id, self.backoff)

    def job_folder(self, job_properties: Mapping[str, Any]) -> JobFolderReader:
        """A reader of a finished job's output folder in S3, given GetDICOMImportJob's `jobProperties`."""
        from ahi.services.imports import JobFolderReader

        return JobFolderReader.for_job(self.aws.client("s3"), job_properties)

    def raw_line(self, uri: S3Uri, span: LineSpan) -> str | S3Problem:
        """One ndjson line of a job's output, fetched again by byte range."""
        from ahi.services.imports import fetch_raw_line

        return fetch_raw_line(self.aws.client("s3"), uri, span)

    def s3_prefixes(self) -> S3PrefixLister:
        """Completions of half-typed S3 URIs (bucket names, then folders), listed once per lister."""
        from ahi.services.s3_prefixes import S3PrefixLister

        return S3PrefixLister(self.aws.client("s3"))

    def input_objects(self, input_uri: S3Uri) -> InputObjects:
        """HeadObject lookups (cached) of a job's input files."""
        from ahi.services.input_objects import InputObjects

        return InputObjects(self.aws.client("s3"), input_uri)

    def reimport(self, plan: ReimportPlan) -> ReimportResult:
        """Copy the planned failed files and start a new import job on them (errors are in the result)."""
        from ahi.services.reimport import run_reimport

        aws = self.aws
        return run_reimport(aws.client("s3"), aws.medical_imaging, plan)
