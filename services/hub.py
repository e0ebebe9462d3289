"""Every service object of one AWS session, created on first use (client creation costs time).

Each service module is imported inside its property: image sets and frames pull in pydicom,
numpy and imagecodecs, which the first screen never needs (start-up time is a goal).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from ahi.services.backoff import Backoff
from ahi.services.session import AwsSession

if TYPE_CHECKING:
    from ahi.services.datastores import DatastoreService
    from ahi.services.frames import FrameCache
    from ahi.services.imagesets import ImageSetService
    from ahi.services.import_job_list import ImportJobService
    from ahi.services.kms import KmsService
    from ahi.services.tags import TagService


class ServiceHub:
    """The console's way to AWS: one per profile/region; later screens add their services here."""

    def __init__(self, aws: AwsSession, backoff: Backoff | None = None) -> None:
        self.aws = aws
        self.backoff = backoff or Backoff()

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
    def frame_cache(self) -> FrameCache:
        """Decoded frames shared by every preview of this session (an LRU bounded in bytes)."""
        from ahi.services.frames import FrameCache

        return FrameCache()

    @cached_property
    def imports(self) -> ImportJobService:
        """Import jobs and their outputs in S3 (the jobs screens)."""
        from ahi.services.import_job_list import ImportJobService

        return ImportJobService(self.aws.medical_imaging, self.aws.client("s3"), self.backoff)
