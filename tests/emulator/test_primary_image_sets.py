"""Primary and non-primary image sets over HTTP (docs/primary-image-sets.md): imports, search, promotion, updates."""

from __future__ import annotations

import sqlite3
from typing import Any

from imageset_flows import (  # noqa: F401 - image_set is a fixture
    copy_to_new,
    image_set,
    metadata,
    new_datastore,
    only_series,
    rejected,
    update,
    wait_unlocked,
)
from import_runs import run_import

from ahi.emulator.config import EndpointConfig
from ahi.emulator.demo import phantoms
from ahi.emulator.demo.phantoms import Subject
from ahi.emulator.server import LocalEndpoint
from ahi.emulator.store import db
from ahi.emulator.store.imagesets import image_sets_of_job

RENAMED = Subject(patient_name="Renamed^Patient")


def primaries(mi: Any, datastore_id: str, is_primary: bool) -> list[str]:
    """Ids of the data store's image sets SearchImageSets finds with isPrimary = `is_primary`."""
    criteria = {"filters": [{"operator": "EQUAL", "values": [{"isPrimary": is_primary}]}]}
    found = mi.search_image_sets(datastoreId=datastore_id, searchCriteria=criteria, maxResults=50)
    assert all(summary["isPrimary"] is is_primary for summary in found["imageSetsMetadataSummaries"])
    return sorted(summary["imageSetId"] for summary in found["imageSetsMetadataSummaries"])


def is_primary(mi: Any, datastore_id: str, image_set_id: str) -> bool:
    return bool(mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["isPrimary"])


def test_a_conflicting_reimport_is_kept_non_primary_and_promotion_replaces_the_primary(mi: Any, s3: Any) -> None:
    datastore_id = new_datastore(mi)
    first = run_import(mi, s3, datastore_id, phantoms.ct_series(2, 32), "original")
    original = first.only()
    assert (original["isPrimary"], original["imageSetVersion"]) == (True, 1)

    renamed_job = run_import(mi, s3, datastore_id, phantoms.ct_series(2, 32, subject=RENAMED), "renamed")
    renamed = renamed_job.only()
    assert renamed["imageSetId"] != original["imageSetId"]
    assert (renamed["isPrimary"], renamed["imageSetVersion"], renamed["numberOfMatchedSOPInstances"]) == (False, 1, 2)
    assert [line["importResponse"] for line in renamed_job.success] == [
        {"imageSetId": renamed["imageSetId"], "isPrimary": False}
    ] * 2
    assert is_primary(mi, datastore_id, renamed["imageSetId"]) is False
    assert is_primary(mi, datastore_id, original["imageSetId"]) is True
    assert primaries(mi, datastore_id, True) == [original["imageSetId"]]
    assert primaries(mi, datastore_id, False) == [renamed["imageSetId"]]

    promoted = copy_to_new(mi, datastore_id, renamed["imageSetId"], promoteToPrimary=True)
    assert promoted not in (original["imageSetId"], renamed["imageSetId"])
    assert is_primary(mi, datastore_id, promoted) is True
    assert metadata(mi, datastore_id, promoted)["Patient"]["DICOM"]["PatientName"] == "Renamed^Patient"
    assert primaries(mi, datastore_id, True) == [promoted]
    assert primaries(mi, datastore_id, False) == sorted([original["imageSetId"], renamed["imageSetId"]])
    replaced = mi.get_image_set(datastoreId=datastore_id, imageSetId=original["imageSetId"])
    assert (replaced["imageSetState"], replaced["isPrimary"]) == ("ACTIVE", False)


def test_the_same_files_again_are_a_non_primary_duplicate(mi: Any, s3: Any) -> None:
    datastore_id = new_datastore(mi)
    files = phantoms.ct_series(2, 32)
    original = run_import(mi, s3, datastore_id, files, "once").only()
    again = run_import(mi, s3, datastore_id, files, "twice").only()
    assert again["imageSetId"] != original["imageSetId"] and again["isPrimary"] is False
    assert primaries(mi, datastore_id, True) == [original["imageSetId"]]
    assert mi.get_image_set(datastoreId=datastore_id, imageSetId=original["imageSetId"])["versionId"] == "1"


def test_new_instances_of_a_primary_series_become_its_next_version(mi: Any, s3: Any) -> None:
    datastore_id = new_datastore(mi)
    original = run_import(mi, s3, datastore_id, phantoms.ct_series(2, 32), "first-half").only()
    more = run_import(mi, s3, datastore_id, phantoms.ct_series(4, 32)[2:], "second-half")
    added = more.only()
    assert (added["imageSetId"], added["imageSetVersion"], added["isPrimary"]) == (original["imageSetId"], 2, True)
    assert added["numberOfMatchedSOPInstances"] == 2
    assert [line["importResponse"]["imageSetId"] for line in more.success] == [original["imageSetId"]] * 2

    properties = mi.get_image_set(datastoreId=datastore_id, imageSetId=original["imageSetId"])
    assert (properties["versionId"], properties["imageSetState"], properties["imageSetWorkflowStatus"]) == (
        "2", "ACTIVE", "IMPORTED"
    )
    _, series = only_series(metadata(mi, datastore_id, original["imageSetId"]))
    assert len(series["Instances"]) == 4
    assert len(only_series(metadata(mi, datastore_id, original["imageSetId"], versionId="1"))[1]["Instances"]) == 2
    for instance in series["Instances"].values():
        (frame,) = instance["ImageFrames"]
        got = mi.get_image_frame(
            datastoreId=datastore_id, imageSetId=original["imageSetId"], imageFrameInformation={"imageFrameId": frame["ID"]}
        )
        assert got["imageFrameBlob"].read()
    summaries = mi.search_image_sets(datastoreId=datastore_id, searchCriteria={})["imageSetsMetadataSummaries"]
    assert [(s["imageSetId"], s["version"], s["DICOMTags"]["DICOMNumberOfStudyRelatedInstances"]) for s in summaries] == [
        (original["imageSetId"], 2, 4)
    ]


def test_promotion_refuses_a_conflict_with_another_series_of_the_study(mi: Any, s3: Any) -> None:
    datastore_id = new_datastore(mi)
    axial = run_import(mi, s3, datastore_id, phantoms.ct_series(2, 32, series_key="axial"), "axial").only()
    coronal = run_import(mi, s3, datastore_id, phantoms.ct_series(2, 32, series_key="coronal"), "coronal").only()
    assert axial["isPrimary"] and coronal["isPrimary"], "two series of one study are both primary"
    renamed = run_import(
        mi, s3, datastore_id, phantoms.ct_series(2, 32, subject=RENAMED, series_key="coronal"), "coronal-renamed"
    ).only()
    assert renamed["isPrimary"] is False

    code, status, message = rejected(
        lambda: mi.copy_image_set(
            datastoreId=datastore_id,
            sourceImageSetId=renamed["imageSetId"],
            copyImageSetInformation={"sourceImageSet": {"latestVersionId": "1"}},
            promoteToPrimary=True,
        )
    )
    assert (code, status) == ("ValidationException", 400)
    assert "promoteToPrimary" in message and "PatientName" in message and axial["imageSetId"] in message
    assert primaries(mi, datastore_id, True) == sorted([axial["imageSetId"], coronal["imageSetId"]])


def test_update_rules_for_primary_and_non_primary_image_sets(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, primary_id = image_set
    series_uid, _ = only_series(metadata(mi, datastore_id, primary_id))
    described = {"Study": {"Series": {series_uid: {"DICOM": {"SeriesDescription": "Re-read"}}}}}
    renamed = {"Patient": {"DICOM": {"PatientName": "Garcia^Gloria"}}}
    for force in (False, True):
        code, status, message = rejected(lambda: update(mi, datastore_id, primary_id, "1", updatable=described, force=force))
        assert (code, status) == ("ValidationException", 400)
        assert "Series level" in message and "SeriesDescription" in message and "primary" in message
    code, _, message = rejected(lambda: update(mi, datastore_id, primary_id, "1", updatable=renamed, force=True))
    assert code == "ValidationException" and "Patient level" in message and "non-primary" in message
    update(mi, datastore_id, primary_id, "1", updatable=renamed)
    assert wait_unlocked(mi, datastore_id, primary_id)["imageSetWorkflowStatus"] == "UPDATED"

    copy_id = copy_to_new(mi, datastore_id, primary_id, version="2")
    update(mi, datastore_id, copy_id, "1", updatable=described)
    assert wait_unlocked(mi, datastore_id, copy_id)["imageSetWorkflowStatus"] == "UPDATED"
    update(mi, datastore_id, copy_id, "2", updatable={"Patient": {"DICOM": {"PatientName": "Forced^Name"}}}, force=True)
    done = wait_unlocked(mi, datastore_id, copy_id)
    assert (done["imageSetWorkflowStatus"], done["overrides"]) == ("UPDATED", {"forced": True})
    assert only_series(metadata(mi, datastore_id, copy_id))[1]["DICOM"]["SeriesDescription"] == "Re-read"


def test_study_wide_updates_mark_the_other_image_sets(endpoint_config: EndpointConfig, mi: Any, s3: Any) -> None:
    endpoint_config.imageset_lock_seconds = 3.0  # the reads below must land while the update holds its locks
    datastore_id = new_datastore(mi)
    axial = run_import(mi, s3, datastore_id, phantoms.ct_series(2, 32, series_key="axial"), "axial").only()
    coronal = run_import(mi, s3, datastore_id, phantoms.ct_series(2, 32, series_key="coronal"), "coronal").only()
    response = update(
        mi, datastore_id, axial["imageSetId"], "1",
        updatable={"Study": {"DICOM": {"StudyDescription": "CT HEAD"}}}, includeStudyImageSets=True,
    )
    assert response["imageSetWorkflowStatus"] == "UPDATING"
    sibling = mi.get_image_set(datastoreId=datastore_id, imageSetId=coronal["imageSetId"])
    assert (sibling["versionId"], sibling["imageSetState"], sibling["imageSetWorkflowStatus"]) == (
        "2", "LOCKED", "UPDATING_FOR_STUDY_CONSISTENCY"
    )
    for image_set_id in (axial["imageSetId"], coronal["imageSetId"]):
        assert wait_unlocked(mi, datastore_id, image_set_id)["imageSetWorkflowStatus"] == "UPDATED"


def test_a_state_directory_from_before_the_job_image_set_records_keeps_its_jobs(
    endpoint: LocalEndpoint, mi: Any, image_set: tuple[str, str]
) -> None:
    datastore_id, image_set_id = image_set
    (job,) = mi.list_dicom_import_jobs(datastoreId=datastore_id)["jobSummaries"]
    port = endpoint.port
    endpoint.stop()
    state = endpoint.config.state_dir / "state.sqlite3"
    newest = db.migration_files()[-1][0]
    with sqlite3.connect(state) as conn:  # the schema as the previous migration left it
        conn.execute("DROP TABLE import_job_image_sets")
        conn.execute("DELETE FROM schema_version WHERE name = 'import_job_image_sets'")
        assert conn.execute("SELECT 1 FROM schema_version WHERE name = 'import_job_image_sets'").fetchone() is None
    conn.close()
    endpoint.config.port = port
    endpoint.start()
    assert endpoint.runtime is not None and endpoint.runtime.store.schema_version == newest
    with endpoint.runtime.store.read() as conn:
        assert image_sets_of_job(conn, job["jobId"]) == [(image_set_id, 1, True)]
    properties = mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)
    assert (properties["versionId"], properties["isPrimary"]) == ("1", True)


def test_an_import_waits_for_a_write_on_its_primary_image_set(
    endpoint_config: EndpointConfig, mi: Any, s3: Any
) -> None:
    datastore_id = new_datastore(mi)
    original = run_import(mi, s3, datastore_id, phantoms.ct_series(2, 32), "first-half").only()
    series_uid, series = only_series(metadata(mi, datastore_id, original["imageSetId"]))
    first_sop = next(iter(series["Instances"]))
    endpoint_config.imageset_lock_seconds = 1.0
    comment = {"Study": {"Series": {series_uid: {"Instances": {first_sop: {"DICOM": {"ImageComments": "checked"}}}}}}}
    update(mi, datastore_id, original["imageSetId"], "1", updatable=comment)
    added = run_import(mi, s3, datastore_id, phantoms.ct_series(4, 32)[2:], "second-half").only()
    assert (added["imageSetId"], added["imageSetVersion"], added["isPrimary"]) == (original["imageSetId"], 3, True)
    versions = mi.list_image_set_versions(datastoreId=datastore_id, imageSetId=original["imageSetId"])
    assert [(v["versionId"], v["ImageSetWorkflowStatus"]) for v in versions["imageSetPropertiesList"]] == [
        ("3", "IMPORTED"), ("2", "UPDATED"), ("1", "CREATED")
    ]
    instances = only_series(metadata(mi, datastore_id, original["imageSetId"]))[1]["Instances"]
    assert len(instances) == 4 and instances[first_sop]["DICOM"]["ImageComments"] == "checked"
