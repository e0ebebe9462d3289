"""A re-import conflict: a study imported, then imported again with a changed PatientName.

The second job's series disagrees with the study's primary image set on a Patient element (and holds
the same instances), so the endpoint keeps it as a non-primary image set (docs/primary-image-sets.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ahi.emulator.demo.phantoms import Subject, ct_series

ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
ORIGINAL = Subject(patient_id="AHI-CONFLICT-1", patient_name="Original^Name", study_key="conflict")
RENAMED = Subject(**{**ORIGINAL.__dict__, "patient_name": "Renamed^Name"})


@dataclass(frozen=True)
class ConflictWorld:
    """The data store, the two jobs, and the primary and non-primary image sets they made."""

    datastore_id: str
    first_job: str
    reimport_job: str
    primary: str
    non_primary: str
    study_uid: str = ORIGINAL.study_uid


def _until(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _import(mi: Any, datastore_id: str, prefix: str, name: str) -> str:
    job_id = mi.start_dicom_import_job(
        jobName=name, datastoreId=datastore_id, dataAccessRoleArn=ROLE,
        inputS3Uri=f"s3://conflict-in/{prefix}/", outputS3Uri="s3://conflict-out/jobs/",
    )["jobId"]  # fmt: skip
    _until(lambda: mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"] == "COMPLETED", f"job {name}")
    return str(job_id)


def reimport_conflict(mi: Any, s3: Any, datastore_name: str = "conflict-store") -> ConflictWorld:
    """A data store where `first-import` made a primary image set and `reimport-renamed` a non-primary one."""
    for bucket in ("conflict-in", "conflict-out"):
        s3.create_bucket(Bucket=bucket)
    for prefix, subject in (("first", ORIGINAL), ("again", RENAMED)):
        for name, data in ct_series(2, 32, subject=subject, series_key="conflict"):
            s3.put_object(Bucket="conflict-in", Key=f"{prefix}/{name}", Body=data)
    datastore_id = mi.create_datastore(datastoreName=datastore_name, clientToken=datastore_name)["datastoreId"]
    _until(lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE", "the data store")
    first = _import(mi, datastore_id, "first", "first-import")
    again = _import(mi, datastore_id, "again", "reimport-renamed")
    roles = {
        s["isPrimary"]: s["imageSetId"]
        for s in mi.search_image_sets(datastoreId=datastore_id, searchCriteria={})["imageSetsMetadataSummaries"]
    }
    assert set(roles) == {True, False}, roles
    return ConflictWorld(datastore_id, first, again, roles[True], roles[False])
