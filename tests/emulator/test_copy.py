"""CopyImageSet over HTTP: new and existing destinations, subsets, force, promoteToPrimary, the source lock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from imageset_flows import (  # noqa: F401 - image_set is a fixture
    OTHER_PATIENT,
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

GUIDE_MESSAGE = "INVALID_REQUEST: Series of SourceImageSet and DestinationImageSet don't match."


def copy(mi: Any, datastore_id: str, source_id: str, source_version: str, **information: Any) -> dict[str, Any]:
    extra = {name: information.pop(name) for name in ("force", "promoteToPrimary") if name in information}
    body: dict[str, Any] = {"sourceImageSet": {"latestVersionId": source_version}}
    if "copiable" in information:
        body["sourceImageSet"]["DICOMCopies"] = {"copiableAttributes": json.dumps(information.pop("copiable"))}
    if information:
        body["destinationImageSet"] = {"imageSetId": information["destination"], "latestVersionId": information["version"]}
    return dict(mi.copy_image_set(datastoreId=datastore_id, sourceImageSetId=source_id, copyImageSetInformation=body, **extra))


def frame_bytes(mi: Any, datastore_id: str, image_set_id: str, frame_id: str) -> bytes:
    response = mi.get_image_frame(
        datastoreId=datastore_id, imageSetId=image_set_id, imageFrameInformation={"imageFrameId": frame_id}
    )
    return bytes(response["imageFrameBlob"].read())


def test_copy_into_a_new_image_set(endpoint_config: EndpointConfig, mi: Any, image_set: tuple[str, str]) -> None:
    endpoint_config.imageset_lock_seconds = 0.4
    datastore_id, source_id = image_set
    before = mi.get_image_set(datastoreId=datastore_id, imageSetId=source_id)
    source_document = metadata(mi, datastore_id, source_id)
    response = copy(mi, datastore_id, source_id, "1")
    source, destination = response["sourceImageSetProperties"], response["destinationImageSetProperties"]
    assert response["datastoreId"] == datastore_id
    assert (source["imageSetId"], source["latestVersionId"]) == (source_id, "1")
    assert (source["imageSetState"], source["imageSetWorkflowStatus"]) == ("LOCKED", "COPYING_WITH_READ_ONLY_ACCESS")
    assert (destination["latestVersionId"], destination["imageSetState"], destination["imageSetWorkflowStatus"]) == (
        "1", "LOCKED", "COPYING",
    )
    assert destination["createdAt"] == destination["updatedAt"]
    assert destination["imageSetArn"].endswith(f"datastore/{datastore_id}/imageset/{destination['imageSetId']}")
    copy_id = destination["imageSetId"]

    # While copying, the source stays readable (metadata and frames) but takes no writes.
    assert metadata(mi, datastore_id, source_id) == source_document
    frame_id = next(iter(only_series(source_document)[1]["Instances"].values()))["ImageFrames"][0]["ID"]
    assert frame_bytes(mi, datastore_id, source_id, frame_id)
    patch = {"updatable": {"Study": {"DICOM": {"StudyDescription": "X"}}}}
    code, _, message = rejected(lambda: update(mi, datastore_id, source_id, "1", **patch))
    assert code == "ConflictException" and "COPYING_WITH_READ_ONLY_ACCESS" in message

    done = wait_unlocked(mi, datastore_id, copy_id)
    assert (done["versionId"], done["imageSetState"], done["imageSetWorkflowStatus"]) == ("1", "ACTIVE", "COPIED")
    assert done["isPrimary"] is False
    after = wait_unlocked(mi, datastore_id, source_id)
    assert {k: after[k] for k in ("versionId", "imageSetState", "imageSetWorkflowStatus", "updatedAt")} == {
        k: before[k] for k in ("versionId", "imageSetState", "imageSetWorkflowStatus", "updatedAt")
    }
    copied = metadata(mi, datastore_id, copy_id)
    assert copied["ImageSetID"] == copy_id
    assert {**copied, "ImageSetID": source_id} == source_document
    assert frame_bytes(mi, datastore_id, copy_id, frame_id) == frame_bytes(mi, datastore_id, source_id, frame_id)


def test_copy_into_an_existing_image_set_merges_series(mi: Any, s3: Any) -> None:
    datastore_id = new_datastore(mi)
    axial = import_ct(mi, s3, datastore_id, series_key="axial")
    coronal = import_ct(mi, s3, datastore_id, series_key="coronal")
    coronal_series, coronal_block = only_series(metadata(mi, datastore_id, coronal))
    response = copy(mi, datastore_id, coronal, "1", destination=axial, version="1")
    assert response["destinationImageSetProperties"]["latestVersionId"] == "2"
    assert response["destinationImageSetProperties"]["imageSetId"] == axial
    done = wait_unlocked(mi, datastore_id, axial)
    assert (done["versionId"], done["imageSetWorkflowStatus"]) == ("2", "COPIED")
    merged = metadata(mi, datastore_id, axial)
    assert len(merged["Study"]["Series"]) == 2
    assert merged["Study"]["Series"][coronal_series] == coronal_block
    frame_id = next(iter(coronal_block["Instances"].values()))["ImageFrames"][0]["ID"]
    assert frame_bytes(mi, datastore_id, axial, frame_id) == frame_bytes(mi, datastore_id, coronal, frame_id)

    # A whole series can then be removed again.
    update(mi, datastore_id, axial, "2", removable={"Study": {"Series": {coronal_series: {}}}})
    assert wait_unlocked(mi, datastore_id, axial)["imageSetWorkflowStatus"] == "UPDATED"
    assert coronal_series not in metadata(mi, datastore_id, axial)["Study"]["Series"]


def test_clashing_instances_fail_the_copy_and_consume_the_version(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, source_id = image_set
    copy_id = copy_to_new(mi, datastore_id, source_id)
    before = metadata(mi, datastore_id, copy_id)
    response = copy(mi, datastore_id, source_id, "1", destination=copy_id, version="1")
    assert response["destinationImageSetProperties"]["latestVersionId"] == "2"
    failed = wait_unlocked(mi, datastore_id, copy_id)
    assert (failed["versionId"], failed["imageSetState"], failed["imageSetWorkflowStatus"]) == ("2", "ACTIVE", "COPY_FAILED")
    assert failed["message"].startswith(GUIDE_MESSAGE) and "SOP Instance" in failed["message"]
    assert metadata(mi, datastore_id, copy_id) == before
    listed = mi.list_image_set_versions(datastoreId=datastore_id, imageSetId=copy_id)["imageSetPropertiesList"]
    assert [(v["versionId"], v["ImageSetWorkflowStatus"], v.get("message")) for v in listed] == [
        ("2", "COPY_FAILED", failed["message"]),
        ("1", "COPIED", None),
    ]
    # The failed version is the latest: the next write names it.
    update(mi, datastore_id, copy_id, "2", updatable={"Patient": {"DICOM": {"PatientName": "Garcia^Gloria"}}})
    assert wait_unlocked(mi, datastore_id, copy_id)["versionId"] == "3"


def test_mismatched_metadata_fails_unless_forced(mi: Any, s3: Any) -> None:
    datastore_id = new_datastore(mi)
    ours = import_ct(mi, s3, datastore_id)
    theirs = import_ct(mi, s3, datastore_id, subject=OTHER_PATIENT)
    destination_patient = metadata(mi, datastore_id, theirs)["Patient"]
    copy(mi, datastore_id, ours, "1", destination=theirs, version="1")
    failed = wait_unlocked(mi, datastore_id, theirs)
    assert failed["imageSetWorkflowStatus"] == "COPY_FAILED"
    assert failed["message"].startswith(GUIDE_MESSAGE)
    assert "Patient attributes differ: PatientID, PatientName" in failed["message"]
    assert "AHI" not in failed["message"], "the message names keys, never values"

    copy(mi, datastore_id, ours, "1", destination=theirs, version="2", force=True)
    done = wait_unlocked(mi, datastore_id, theirs)
    assert (done["versionId"], done["imageSetWorkflowStatus"], done["overrides"]) == ("3", "COPIED", {"forced": True})
    document = metadata(mi, datastore_id, theirs)
    assert document["Patient"] == destination_patient
    assert len(document["Study"]["Series"]) == 2
    study_uid = document["Study"]["DICOM"]["StudyInstanceUID"]
    assert all(block["DICOM"]["StudyInstanceUID"] == study_uid for block in document["Study"]["Series"].values())


def test_copiable_attributes_copy_a_subset(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, source_id = image_set
    series_uid, block = only_series(metadata(mi, datastore_id, source_id))
    first, second = list(block["Instances"])
    subset = {"SchemaVersion": "1.1", "Study": {"Series": {series_uid: {"Instances": {second: {}}}}}}
    copy_id = copy(mi, datastore_id, source_id, "1", copiable=subset)["destinationImageSetProperties"]["imageSetId"]
    wait_unlocked(mi, datastore_id, copy_id)
    assert list(only_series(metadata(mi, datastore_id, copy_id))[1]["Instances"]) == [second]

    # AWS's Python example keys the series by the literal "imageSetId"; instances are found by SOP UID.
    wait_unlocked(mi, datastore_id, source_id)
    aws_style = {"SchemaVersion": "1.1", "Study": {"Series": {"imageSetId": {"Instances": {first: {}}}}}}
    response = copy(mi, datastore_id, source_id, "1", copiable=aws_style, destination=copy_id, version="1")
    assert response["destinationImageSetProperties"]["latestVersionId"] == "2"
    assert wait_unlocked(mi, datastore_id, copy_id)["imageSetWorkflowStatus"] == "COPIED"
    assert set(only_series(metadata(mi, datastore_id, copy_id))[1]["Instances"]) == {first, second}


@pytest.mark.parametrize(
    ("copiable", "rule"),
    [
        ({"Study": {"Series": {"s": {"Instances": {"1.2.3": {}}}}}}, "not in the source image set"),
        ({"Study": {"Series": {"s": {"Instances": {}}}}}, "names no SOP instance"),
        ({"Study": {"Series": {"s": {"DICOM": {}}}}}, "must hold only Instances"),
        ({"Patient": {}}, "SchemaVersion and Study only"),
    ],
    ids=["unknown-instance", "empty", "dicom", "patient"],
)
def test_bad_copiable_attributes(mi: Any, image_set: tuple[str, str], copiable: dict[str, Any], rule: str) -> None:
    datastore_id, source_id = image_set
    code, _, message = rejected(lambda: copy(mi, datastore_id, source_id, "1", copiable=copiable))
    assert code == "ValidationException" and rule in message and "copiableAttributes" in message


def test_promote_to_primary(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, source_id = image_set
    copy_id = copy_to_new(mi, datastore_id, source_id, promoteToPrimary=True)
    assert mi.get_image_set(datastoreId=datastore_id, imageSetId=copy_id)["isPrimary"] is True


def test_copy_conflicts(endpoint_config: EndpointConfig, mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, source_id = image_set
    code, _, message = rejected(lambda: copy(mi, datastore_id, source_id, "2"))
    assert code == "ConflictException" and "sourceImageSet.latestVersionId 2" in message
    copy_id = copy_to_new(mi, datastore_id, source_id)
    code, _, message = rejected(lambda: copy(mi, datastore_id, source_id, "1", destination=copy_id, version="3"))
    assert code == "ConflictException" and "destinationImageSet.latestVersionId 3" in message
    code, _, message = rejected(lambda: copy(mi, datastore_id, source_id, "1", destination=source_id, version="1"))
    assert code == "ValidationException" and "must differ" in message
    code, status, _ = rejected(lambda: copy(mi, datastore_id, "f" * 32, "1"))
    assert (code, status) == ("ResourceNotFoundException", 404)

    endpoint_config.imageset_lock_seconds = 5.0
    copy(mi, datastore_id, source_id, "1")
    code, _, message = rejected(lambda: copy(mi, datastore_id, source_id, "1"))
    assert code == "ConflictException" and "LOCKED" in message
    code, _, _ = rejected(lambda: copy(mi, datastore_id, copy_id, "1", destination=source_id, version="1"))
    assert code == "ConflictException"
