"""Shared by the search tests: image sets written straight into the store, and the summaries to expect.

Image sets go in through `emulator.store.imagesets.insert_image_set` (the import's own insert) with a
minimal metadata document, so the search index columns are filled exactly as an import fills them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from ahi.emulator.ids import new_id
from ahi.emulator.store.db import Store
from ahi.emulator.store.imagesets import insert_image_set

ACCOUNT = "123456789012"
REGION = "us-east-1"
UTC = dt.timezone.utc


@dataclass(frozen=True)
class Seed:
    """One image set to write: its DICOM search attributes, timestamps and flags."""

    created_at: float
    updated_at: float | None = None
    patient_id: str | None = None
    patient_name: str | None = None
    accession_number: str | None = None
    study_id: str | None = None
    study_instance_uid: str | None = None
    series_instance_uid: str | None = None
    study_date: str | None = None
    study_time: str | None = None
    modality: str | None = "CT"
    series_number: str | None = "1"
    instances: int = 2
    is_primary: bool = True
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def document(seed: Seed, datastore_id: str, image_set_id: str) -> dict[str, Any]:
    """A minimal metadata document carrying the seed's attributes (absent ones left out)."""

    def present(**values: Any) -> dict[str, Any]:
        return {key: value for key, value in values.items() if value is not None}

    series_uid = seed.series_instance_uid or f"2.25.{int(image_set_id, 16)}"
    instance_uids = [f"{series_uid}.{n}" for n in range(1, seed.instances + 1)]
    instances = {uid: {"DICOM": {"SOPInstanceUID": uid}} for uid in instance_uids}
    return {
        "SchemaVersion": "1.1",
        "DatastoreID": datastore_id,
        "ImageSetID": image_set_id,
        "Patient": {"DICOM": present(PatientID=seed.patient_id, PatientName=seed.patient_name, PatientSex="O")},
        "Study": {
            "DICOM": present(
                StudyInstanceUID=seed.study_instance_uid,
                StudyID=seed.study_id,
                AccessionNumber=seed.accession_number,
                StudyDate=seed.study_date,
                StudyTime=seed.study_time,
                StudyDescription="SEARCH TEST",
            ),
            "Series": {
                series_uid: {
                    "DICOM": present(
                        SeriesInstanceUID=seed.series_instance_uid,
                        Modality=seed.modality,
                        SeriesNumber=seed.series_number,
                        BodyPartExamined="CHEST",
                    ),
                    "Instances": instances,
                }
            },
        },
    }


def seed_image_sets(store: Store, datastore_id: str, seeds: list[Seed]) -> list[str]:
    """Write the image sets in order (so their seq follows the list); their ids."""
    ids: list[str] = []
    with store.transaction() as tx:
        for seed in seeds:
            image_set_id = new_id()
            insert_image_set(
                tx,
                image_set_id=image_set_id,
                datastore_id=datastore_id,
                account_id=ACCOUNT,
                region=REGION,
                document=document(seed, datastore_id, image_set_id),
                frames=[],
                now=seed.created_at,
                is_primary=seed.is_primary,
            )
            if seed.updated_at is not None:
                touch(tx, image_set_id, seed.updated_at)
            if seed.deleted:
                mark_deleted(tx, image_set_id, seed.updated_at or seed.created_at)
            ids.append(image_set_id)
    return ids


def touch(tx: Any, image_set_id: str, updated_at: float) -> None:
    """Move an image set's updatedAt, as a settled update does."""
    tx.execute("UPDATE image_sets SET updated_at = ? WHERE image_set_id = ?", (updated_at, image_set_id))
    tx.execute(
        "UPDATE image_set_versions SET updated_at = ? WHERE image_set_id = ? AND version ="
        " (SELECT latest_version FROM image_sets WHERE image_set_id = ?)",
        (updated_at, image_set_id, image_set_id),
    )


def mark_deleted(tx: Any, image_set_id: str, at: float) -> None:
    """What a settled DeleteImageSet leaves behind (emulator/store/versions.py)."""
    tx.execute(
        "UPDATE image_set_versions SET state = 'DELETED', workflow_status = 'DELETED', deleted_at = ?"
        " WHERE image_set_id = ?",
        (at, image_set_id),
    )
    tx.execute("UPDATE image_sets SET deleted_at = ? WHERE image_set_id = ?", (at, image_set_id))


def shown(seconds: float) -> dt.datetime:
    """A stored time as a summary shows it: the nearest whole millisecond, UTC.

    Mirrors the store's `ROUND(seconds * 1000)`, which SQLite computes as floor(x + 0.5) (ties away from zero).
    """
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=math.floor(seconds * 1000 + 0.5))


def search_all(mi: Any, datastore_id: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every summary of a search, page by page through boto3's paginator."""
    pages = mi.get_paginator("search_image_sets").paginate(datastoreId=datastore_id, **kwargs)
    return [summary for page in pages for summary in page["imageSetsMetadataSummaries"]]
