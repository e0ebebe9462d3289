"""A small imported world for image set tests: two patients, three image sets, through the real import path.

Patient AHI-DEMO-001 has a 4-slice CT (64x64) and an RGB ultrasound; AHI-DEMO-002 a 2-slice CT
(32x32). `fixed_image_set_ids` makes image set and frame IDs sequential so screens look the same
every run.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import pytest

from ahi.emulator.demo.phantoms import Subject, ct_series, ultrasound_rgb

ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
PATIENT_A = Subject()
PATIENT_B = Subject(
    patient_id="AHI-DEMO-002",
    patient_name="Doe^Jane",
    study_key="study-2",
    accession="ACC0002",
    study_date="20240401",
    study_description="Second phantom",
)


@dataclass(frozen=True)
class World:
    """Where the imported image sets are: data store, and image set id by series key."""

    datastore_id: str
    image_sets: dict[str, str]

    @property
    def ct(self) -> str:
        return self.image_sets["ct"]


def fixed_image_set_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sequential data store, image set and frame IDs (the endpoint's ID generators are replaced)."""
    stores, sets, frames = itertools.count(1), itertools.count(1), itertools.count(1)
    monkeypatch.setattr("ahi.emulator.handlers.datastores.new_id", lambda: f"{next(stores):032x}")
    monkeypatch.setattr("ahi.emulator.imports.pipeline.new_id", lambda: f"{0xA000 + next(sets):032x}")
    monkeypatch.setattr("ahi.emulator.dicom.frames.new_id", lambda: f"{0xF000 + next(frames):032x}")


def import_world(mi: Any, s3: Any, datastore_name: str = "imaging-archive") -> World:
    """Create an ACTIVE data store and import both patients in one job; wait until it ends."""
    files = ct_series(4, 64) + ultrasound_rgb(rows=48, cols=64) + ct_series(2, 32, subject=PATIENT_B, series_key="ct2")
    for bucket in ("world-input", "world-output"):
        s3.create_bucket(Bucket=bucket)
    for name, data in files:
        s3.put_object(Bucket="world-input", Key=f"in/{name}", Body=data)
    datastore_id = mi.create_datastore(datastoreName=datastore_name, clientToken=datastore_name)["datastoreId"]
    _until(lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE")
    job_id = mi.start_dicom_import_job(
        datastoreId=datastore_id,
        dataAccessRoleArn=ROLE,
        inputS3Uri="s3://world-input/in/",
        outputS3Uri="s3://world-output/out/",
        clientToken="world",
    )["jobId"]
    _until(lambda: mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"] in ("COMPLETED", "FAILED"))
    image_sets: dict[str, str] = {}
    for summary in mi.search_image_sets(datastoreId=datastore_id, searchCriteria={})["imageSetsMetadataSummaries"]:
        tags = summary["DICOMTags"]
        key = {"US": "us"}.get(tags.get("DICOMSeriesModality"), "ct" if tags["DICOMPatientId"] == PATIENT_A.patient_id else "ct2")
        image_sets[key] = summary["imageSetId"]
    assert set(image_sets) == {"ct", "us", "ct2"}, image_sets
    return World(datastore_id, image_sets)


def wait_until_active(mi: Any, datastore_id: str, image_set_id: str) -> dict[str, Any]:
    """GetImageSet once the image set is no longer LOCKED."""
    found: dict[str, Any] = {}

    def settled() -> bool:
        found.update(mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id))
        return found["imageSetState"] != "LOCKED"

    _until(settled)
    return found


def _until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
