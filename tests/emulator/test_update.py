"""UpdateImageSetMetadata over HTTP: patches, revert, force, the metadata constraints and the lock."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from imageset_flows import (  # noqa: F401 - image_set is a fixture
    copy_to_new,
    image_set,
    import_ct,
    metadata,
    new_datastore,
    only_series,
    rejected,
    update,
    wait_unlocked,
)

from ahi.emulator.config import EndpointConfig
from ahi.emulator.handlers import HANDLERS


def test_update_answers_locked_then_settles_updated(
    endpoint_config: EndpointConfig, mi: Any, image_set: tuple[str, str]
) -> None:
    endpoint_config.imageset_lock_seconds = 1.5  # four calls must land inside it, even on a loaded machine
    datastore_id, image_set_id = image_set
    created = mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)
    response = update(
        mi, datastore_id, image_set_id, "1", updatable={"Patient": {"DICOM": {"PatientName": "Garcia^Gloria"}}}
    )
    assert response["latestVersionId"] == "2"
    assert (response["imageSetState"], response["imageSetWorkflowStatus"]) == ("LOCKED", "UPDATING")
    assert response["createdAt"] == created["createdAt"]
    assert response["updatedAt"] >= created["updatedAt"]
    during = mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)
    assert (during["versionId"], during["imageSetState"], during["imageSetWorkflowStatus"]) == ("2", "LOCKED", "UPDATING")
    code, status, _ = rejected(lambda: metadata(mi, datastore_id, image_set_id))
    assert (code, status) == ("ConflictException", 409)
    assert metadata(mi, datastore_id, image_set_id, versionId="1")["Patient"]["DICOM"]["PatientName"] == "Phantom^Shepp^Logan"

    done = wait_unlocked(mi, datastore_id, image_set_id)
    assert (done["versionId"], done["imageSetState"], done["imageSetWorkflowStatus"]) == ("2", "ACTIVE", "UPDATED")
    assert "message" not in done
    assert metadata(mi, datastore_id, image_set_id)["Patient"]["DICOM"]["PatientName"] == "Garcia^Gloria"
    assert metadata(mi, datastore_id, image_set_id, versionId="1")["Patient"]["DICOM"]["PatientName"] == "Phantom^Shepp^Logan"


def test_insert_and_update_at_every_level(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, primary_id = image_set
    image_set_id = copy_to_new(mi, datastore_id, primary_id)  # Series level elements of primary image sets are fixed
    before = metadata(mi, datastore_id, image_set_id)
    series_uid, series = only_series(before)
    sop_uid = next(iter(series["Instances"]))
    update(
        mi,
        datastore_id,
        image_set_id,
        "1",
        updatable={
            "Patient": {"DICOM": {"PatientSex": "F", "EthnicGroup": "Synthetic"}},
            "Study": {
                "DICOM": {"StudyDescription": "CT CHEST", "PatientAge": "054Y"},
                "Series": {
                    series_uid: {
                        "DICOM": {"SeriesDescription": "Re-read", "SeriesNumber": 7},
                        "Instances": {sop_uid: {"DICOM": {"ImageComments": "checked", "Rows": 32}}},
                    }
                },
            },
        },
    )
    wait_unlocked(mi, datastore_id, image_set_id)
    after = metadata(mi, datastore_id, image_set_id)
    assert after["Patient"]["DICOM"] == {**before["Patient"]["DICOM"], "PatientSex": "F", "EthnicGroup": "Synthetic"}
    assert after["Study"]["DICOM"]["StudyDescription"] == "CT CHEST"
    assert after["Study"]["DICOM"]["PatientAge"] == "054Y"
    series_after = after["Study"]["Series"][series_uid]
    assert series_after["DICOM"]["SeriesDescription"] == "Re-read"
    assert series_after["DICOM"]["SeriesNumber"] == "7", "IS values are kept as text, as imports store them"
    instance = series_after["Instances"][sop_uid]
    assert instance["DICOM"]["ImageComments"] == "checked"
    assert instance["ImageFrames"] == series["Instances"][sop_uid]["ImageFrames"]
    untouched = [uid for uid in series_after["Instances"] if uid != sop_uid]
    assert all(series_after["Instances"][uid] == series["Instances"][uid] for uid in untouched)
    assert (after["DatastoreID"], after["ImageSetID"], after["SchemaVersion"]) == (datastore_id, image_set_id, "1.1")


def test_remove_needs_key_and_value_to_match(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set
    update(mi, datastore_id, image_set_id, "1", removable={"Study": {"DICOM": {"StudyDescription": "Synthetic phantom study"}}})
    assert wait_unlocked(mi, datastore_id, image_set_id)["imageSetWorkflowStatus"] == "UPDATED"
    assert "StudyDescription" not in metadata(mi, datastore_id, image_set_id)["Study"]["DICOM"]

    update(mi, datastore_id, image_set_id, "2", removable={"Patient": {"DICOM": {"PatientSex": "M"}}})
    failed = wait_unlocked(mi, datastore_id, image_set_id)
    assert (failed["versionId"], failed["imageSetState"], failed["imageSetWorkflowStatus"]) == ("3", "ACTIVE", "UPDATE_FAILED")
    assert failed["message"].startswith("INVALID_REQUEST: ")
    assert "PatientSex" in failed["message"] and "match" in failed["message"]
    assert metadata(mi, datastore_id, image_set_id)["Patient"]["DICOM"]["PatientSex"] == "O"
    assert metadata(mi, datastore_id, image_set_id, versionId="3") == metadata(mi, datastore_id, image_set_id, versionId="2")


def test_update_and_remove_in_one_request(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set
    update(
        mi,
        datastore_id,
        image_set_id,
        "1",
        updatable={"Patient": {"DICOM": {"PatientName": "MX^MX"}}},
        removable={"Patient": {"DICOM": {"PatientSex": "O"}}},
    )
    wait_unlocked(mi, datastore_id, image_set_id)
    patient = metadata(mi, datastore_id, image_set_id)["Patient"]["DICOM"]
    assert patient["PatientName"] == "MX^MX" and "PatientSex" not in patient


def test_remove_instance_and_refuse_removing_the_last(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set
    series_uid, series = only_series(metadata(mi, datastore_id, image_set_id))
    first, second = list(series["Instances"])
    update(mi, datastore_id, image_set_id, "1", removable={"Study": {"Series": {series_uid: {"Instances": {first: {}}}}}})
    wait_unlocked(mi, datastore_id, image_set_id)
    assert list(only_series(metadata(mi, datastore_id, image_set_id))[1]["Instances"]) == [second]

    update(mi, datastore_id, image_set_id, "2", removable={"Study": {"Series": {series_uid: {}}}})
    failed = wait_unlocked(mi, datastore_id, image_set_id)
    assert failed["imageSetWorkflowStatus"] == "UPDATE_FAILED"
    assert "at least one SOP instance" in failed["message"]


def test_missing_series_or_instance_fails_the_update(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set
    missing = {"Study": {"Series": {"1.2.3": {"Instances": {"1.2.3.4": {"DICOM": {"ImageComments": "x"}}}}}}}
    update(mi, datastore_id, image_set_id, "1", updatable=missing)
    failed = wait_unlocked(mi, datastore_id, image_set_id)
    assert failed["imageSetWorkflowStatus"] == "UPDATE_FAILED"
    assert failed["message"] == "INVALID_REQUEST: Series 1.2.3 is not in the image set metadata"
    versions = mi.list_image_set_versions(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetPropertiesList"]
    assert [v["versionId"] for v in versions] == ["2", "1"]


def test_revert_to_an_earlier_version(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set
    original = metadata(mi, datastore_id, image_set_id)
    update(mi, datastore_id, image_set_id, "1", updatable={"Patient": {"DICOM": {"PatientName": "Changed^Name"}}})
    wait_unlocked(mi, datastore_id, image_set_id)
    response = mi.update_image_set_metadata(
        datastoreId=datastore_id, imageSetId=image_set_id, latestVersionId="2",
        updateImageSetMetadataUpdates={"revertToVersionId": "1"},
    )
    assert response["latestVersionId"] == "3"
    assert wait_unlocked(mi, datastore_id, image_set_id)["imageSetWorkflowStatus"] == "UPDATED"
    assert metadata(mi, datastore_id, image_set_id) == original

    code, _, message = rejected(
        lambda: mi.update_image_set_metadata(
            datastoreId=datastore_id, imageSetId=image_set_id, latestVersionId="3",
            updateImageSetMetadataUpdates={"revertToVersionId": "9"},
        )
    )
    assert code == "ValidationException" and "revertToVersionId 9" in message


def test_stale_version_and_locked_image_set_are_conflicts(
    endpoint_config: EndpointConfig, mi: Any, image_set: tuple[str, str]
) -> None:
    datastore_id, image_set_id = image_set
    patch = {"updatable": {"Study": {"DICOM": {"StudyDescription": "CT CHEST"}}}}
    code, status, message = rejected(lambda: update(mi, datastore_id, image_set_id, "2", **patch))
    assert (code, status) == ("ConflictException", 409) and "latestVersionId 2" in message and "latest is 1" in message
    endpoint_config.imageset_lock_seconds = 5.0
    update(mi, datastore_id, image_set_id, "1", **patch)
    code, status, message = rejected(lambda: update(mi, datastore_id, image_set_id, "2", **patch))
    assert (code, status) == ("ConflictException", 409) and "LOCKED" in message
    code, _, _ = rejected(lambda: mi.delete_image_set(datastoreId=datastore_id, imageSetId=image_set_id))
    assert code == "ConflictException"


@pytest.mark.parametrize(
    ("patch", "rule"),
    [
        ({"updatable": {"Patient": {"DICOM": {"00191010": "x"}}}}, "private attribute"),
        ({"updatable": {"Study": {"DICOM": {"PatientName": "A^B"}}}}, "Patient level attribute"),
        ({"updatable": {"Study": {"DICOM": {"MinPixelValue": 3}}}}, "generated by HealthImaging"),
        ({"updatable": {"ImageSetID": "x"}}, "generated by HealthImaging"),
        ({"updatable": {"Study": {"DICOM": {"StudyInstanceUID": "1.2.3"}}}}, "protected attribute"),
        ({"updatable": {"Study": {"DICOM": {"StudyID": "7"}}}}, "protected attribute"),
        ({"updatable": {"Study": {"DICOM": {"ProcedureCodeSequence": []}}}}, "VR SQ"),
        ({"updatable": {"Patient": {"DICOM": {"OtherPatientNames": ["A^B", "C^D"]}}}}, "multi-valued"),
        ({"updatable": {"Patient": {"DICOM": {"PatientBirthDate": "yesterday"}}}}, "VR DA"),
        ({"updatable": {"Patient": {"DICOM": {"PatientName": 7}}}}, "VR PN"),
        ({"updatable": {"Patient": {"DICOM": {"NotAKeyword": "x"}}}}, "not a valid DICOM attribute keyword"),
        ({"removable": {"Patient": {"DICOM": {"00191010": "x"}}}}, "private attribute"),
        ({"removable": {"Study": {"DICOM": {"StudyInstanceUID": "1.2"}}}}, "keys the metadata document"),
    ],
    ids=[
        "private", "cross-module", "generated", "generated-top", "protected-uid", "protected-study-id", "sequence",
        "multi-valued", "vr-date", "vr-type", "invalid-keyword", "remove-private", "remove-uid",
    ],
)
def test_constraint_violations_are_validation_errors(
    mi: Any, image_set: tuple[str, str], patch: dict[str, Any], rule: str
) -> None:
    datastore_id, image_set_id = image_set
    code, status, message = rejected(lambda: update(mi, datastore_id, image_set_id, "1", **patch))
    assert (code, status) == ("ValidationException", 400)
    assert rule in message and "updateImageSetMetadataUpdates.DICOMUpdates" in message
    assert mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["versionId"] == "1"


def test_malformed_patches_are_validation_errors(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set

    def send(updates: dict[str, Any]) -> str:
        code, _, message = rejected(
            lambda: mi.update_image_set_metadata(
                datastoreId=datastore_id, imageSetId=image_set_id, latestVersionId="1", updateImageSetMetadataUpdates=updates
            )
        )
        assert code == "ValidationException"
        return message

    assert "not valid JSON" in send({"DICOMUpdates": {"updatableAttributes": b"{not json"}})
    assert "SchemaVersion" in send({"DICOMUpdates": {"updatableAttributes": b'{"Patient": {"DICOM": {}}}'}})
    assert "names no attribute" in send({"DICOMUpdates": {"updatableAttributes": b'{"SchemaVersion": 1.1}'}})
    assert "must carry updatableAttributes" in send({"DICOMUpdates": {}})
    assert "must be a JSON object" in send({"DICOMUpdates": {"updatableAttributes": b"[1, 2]"}})
    twice = json.dumps({"SchemaVersion": 1.1, "Patient": {"DICOM": {"PatientName": "A^B"}}}).encode()
    assert "base64-encoded twice" in send({"DICOMUpdates": {"updatableAttributes": base64.b64encode(twice)}})
    lone = json.dumps({"SchemaVersion": "1.1", "Patient": {"DICOM": {"PatientName": "A\ud800B"}}}).encode()
    assert "unpaired UTF-16 surrogate" in send({"DICOMUpdates": {"updatableAttributes": lone}})
    assert mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["versionId"] == "1"


def test_payload_limits(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set
    padding = {"Patient": {"DICOM": {"PatientComments": "x" * 9_000}}}
    update(mi, datastore_id, image_set_id, "1", updatable=padding)
    assert wait_unlocked(mi, datastore_id, image_set_id)["imageSetWorkflowStatus"] == "UPDATED"

    over_quota = {"Patient": {"DICOM": {"PatientComments": "x" * 10_000}}}
    code, _, message = rejected(lambda: update(mi, datastore_id, image_set_id, "2", updatable=over_quota))
    assert code == "ValidationException" and "10000 bytes" in message and "updatableAttributes" in message

    over_model = {"Patient": {"DICOM": {"PatientComments": "x" * 30_000}}}
    code, _, message = rejected(lambda: update(mi, datastore_id, image_set_id, "2", updatable=over_model))
    assert code == "ValidationException" and "30000" in message


def test_force_lifts_constraints_on_non_primary_image_sets_only(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set
    series_uid, _ = only_series(metadata(mi, datastore_id, image_set_id))
    renamed = {"Study": {"Series": {series_uid: {"DICOM": {"SeriesInstanceUID": "2.25.42"}}}}}
    code, _, message = rejected(lambda: update(mi, datastore_id, image_set_id, "1", updatable=renamed, force=True))
    assert code == "ValidationException" and "non-primary" in message

    copy_id = copy_to_new(mi, datastore_id, image_set_id)
    assert mi.get_image_set(datastoreId=datastore_id, imageSetId=copy_id)["isPrimary"] is False
    code, _, message = rejected(lambda: update(mi, datastore_id, copy_id, "1", updatable=renamed))
    assert code == "ValidationException" and "set force" in message
    update(mi, datastore_id, copy_id, "1", updatable=renamed, force=True)
    done = wait_unlocked(mi, datastore_id, copy_id)
    assert done["imageSetWorkflowStatus"] == "UPDATED" and done["overrides"] == {"forced": True}
    new_uid, series = only_series(metadata(mi, datastore_id, copy_id))
    assert new_uid == "2.25.42" and series["DICOM"]["SeriesInstanceUID"] == "2.25.42"
    assert len(series["Instances"]) == 2


def test_include_study_image_sets_updates_every_primary_image_set_of_the_study(mi: Any, s3: Any) -> None:
    datastore_id = new_datastore(mi)
    first = import_ct(mi, s3, datastore_id, series_key="axial")
    second = import_ct(mi, s3, datastore_id, series_key="coronal")
    response = update(
        mi, datastore_id, first, "1",
        updatable={"Study": {"DICOM": {"StudyDescription": "CT HEAD"}}}, includeStudyImageSets=True,
    )
    assert response["latestVersionId"] == "2"
    for image_set_id in (first, second):
        done = wait_unlocked(mi, datastore_id, image_set_id)
        assert (done["versionId"], done["imageSetWorkflowStatus"]) == ("2", "UPDATED")
        assert metadata(mi, datastore_id, image_set_id)["Study"]["DICOM"]["StudyDescription"] == "CT HEAD"
    series_uid, _ = only_series(metadata(mi, datastore_id, first))
    code, _, message = rejected(
        lambda: update(
            mi, datastore_id, first, "2",
            updatable={"Study": {"Series": {series_uid: {"DICOM": {"Modality": "MR"}}}}}, includeStudyImageSets=True,
        )
    )
    assert code == "ValidationException" and "includeStudyImageSets" in message


def test_updated_values_reach_the_search_index(endpoint: Any, mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set
    update(
        mi, datastore_id, image_set_id, "1",
        updatable={"Patient": {"DICOM": {"PatientID": "NEW-ID-7"}}, "Study": {"DICOM": {"AccessionNumber": "ACC-NEW"}}},
    )
    done = wait_unlocked(mi, datastore_id, image_set_id)
    with endpoint.runtime.store.read() as conn:
        row = conn.execute(
            "SELECT patient_id, accession_number, latest_version, updated_at FROM image_sets WHERE image_set_id = ?",
            (image_set_id,),
        ).fetchone()
    assert (row["patient_id"], row["accession_number"], row["latest_version"]) == ("NEW-ID-7", "ACC-NEW", 2)
    assert row["updated_at"] == pytest.approx(done["updatedAt"].timestamp(), abs=0.001)
    if "SearchImageSets" not in HANDLERS:
        pytest.skip("SearchImageSets (engineer G1) has not landed yet; the index columns above are what it reads")
    found = mi.search_image_sets(
        datastoreId=datastore_id,
        searchCriteria={"filters": [{"operator": "EQUAL", "values": [{"DICOMPatientId": "NEW-ID-7"}]}]},
    )["imageSetsMetadataSummaries"]
    assert [(s["imageSetId"], s["version"]) for s in found] == [(image_set_id, 2)]
    assert found[0]["DICOMTags"]["DICOMAccessionNumber"] == "ACC-NEW"
    old = mi.search_image_sets(
        datastoreId=datastore_id,
        searchCriteria={"filters": [{"operator": "EQUAL", "values": [{"DICOMPatientId": "AHI-DEMO-001"}]}]},
    )["imageSetsMetadataSummaries"]
    assert old == []
