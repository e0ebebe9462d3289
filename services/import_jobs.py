"""Import job counts per status for a data store (the data store detail view)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ahi.services.backoff import Backoff

JOB_STATUSES: tuple[str, ...] = ("SUBMITTED", "IN_PROGRESS", "COMPLETED", "FAILED")


def count_jobs_by_status(client: Any, datastore_id: str, backoff: Backoff | None = None) -> dict[str, int]:
    """ListDICOMImportJobs across all pages, counted by jobStatus (every status present, zero or not)."""
    def fetch() -> Counter[str]:
        pages = client.get_paginator("list_dicom_import_jobs").paginate(datastoreId=datastore_id)
        return Counter(job["jobStatus"] for page in pages for job in page.get("jobSummaries", []))

    counts = (backoff or Backoff()).call("ListDICOMImportJobs", fetch)
    return {status: counts.get(status, 0) for status in JOB_STATUSES} | dict(counts)
