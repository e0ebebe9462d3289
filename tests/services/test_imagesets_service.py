"""Image set services: the search form's checks and criteria (accepted by the endpoint, matching what it
stores), metadata patches and their update-constraint checks, the readable metadata tree, and every call over HTTP."""

from __future__ import annotations

import gzip
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from image_set_world import PATIENT_A, PATIENT_B, World, import_world, wait_until_active

from ahi.emulator.config import EndpointConfig
from ahi.services.errors import AwsCallError
from ahi.services.connection import Connection
from ahi.services.imagesets import ImageSetState, export_metadata, image_set_arn, readable_version, settled
from ahi.services.metadata_patch import (
    AttributeRef,
    MetadataUpdate,
    remove_attribute,
    remove_instance,
    remove_series,
    removal_problems,
    set_attribute,
    typed_value,
    update_problems,
)
from ahi.services.metadata_tree import NodeKind, binary_size, build_tree, dicom_time, find, person_name, readable, value_at
from ahi.services.search_criteria import SearchForm, check_search, date_problem, describe_criteria, time_problem, uid_problem


# --- the search form ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1.2.840.10008.5.1.4.1.1.2", None),
        ("2.25.274338186870056124763301652713256921559", None),
        ("1.2.840 .10008", "space"),
        ("1.2.840.abc", "letters"),
        (".1.2", "start or end with a dot"),
        ("1.2.", "start or end with a dot"),
        ("1..2", "two dots"),
        ("12345", "digits separated by dots"),
        ("1." + "2" * 70, "at most 64"),
    ],
)
def test_uid_rule_of_4_3_6(value: str, reason: str | None) -> None:
    problem = uid_problem(value)
    assert (problem is None) if reason is None else (reason in (problem or ""))


def test_dates_and_times() -> None:
    assert date_problem("20240315") is None
    assert "YYYYMMDD" in (date_problem("2024-03-15") or "")
    assert "calendar" in (date_problem("20230229") or "")
    assert date_problem("20240229") is None
    assert time_problem("093000") is None and time_problem("093000.123456") is None
    assert "HHMMSS" in (time_problem("9:30") or "")
    assert "time of day" in (time_problem("246000") or "")
    assert "HHMMSS" in (time_problem("093000.1234567") or "")


def test_every_filter_becomes_criteria() -> None:
    checked = check_search(SearchForm(patient_id="P1", study_date_from="20240101", study_time_from="080000", study_date_to="20240131"))
    assert checked.ok
    assert checked.criteria == {
        "filters": [
            {"operator": "EQUAL", "values": [{"DICOMPatientId": "P1"}]},
            {
                "operator": "BETWEEN",
                "values": [
                    {"DICOMStudyDateAndTime": {"DICOMStudyDate": "20240101", "DICOMStudyTime": "080000"}},
                    {"DICOMStudyDateAndTime": {"DICOMStudyDate": "20240131", "DICOMStudyTime": "235959.999999"}},
                ],
            },
        ]
    }
    created = check_search(SearchForm(created_from="2024-03-01", created_to="2024-03-02T10:00:00+02:00", sort_field="createdAt", sort_order="ASC"))
    low, high = (next(iter(v.values())) for v in created.criteria["filters"][0]["values"])
    assert low == datetime(2024, 3, 1, tzinfo=timezone.utc)
    assert high == datetime(2024, 3, 2, 8, tzinfo=timezone.utc)
    assert created.criteria["sort"] == {"sortField": "createdAt", "sortOrder": "ASC"}
    guide_example = check_search(SearchForm(created_from="1985-04-12T23:20:50.52Z"))
    assert guide_example.criteria["filters"][0]["values"][0]["createdAt"] == datetime(1985, 4, 12, 23, 20, 50, 520000, tzinfo=timezone.utc)
    upper_day = check_search(SearchForm(updated_to="2024-03-02"))
    assert upper_day.criteria["filters"][0]["values"][1]["updatedAt"].hour == 23
    for form, member in (
        (SearchForm(accession_number="A1"), "DICOMAccessionNumber"),
        (SearchForm(study_id="S1"), "DICOMStudyId"),
        (SearchForm(study_instance_uid="1.2.3"), "DICOMStudyInstanceUID"),
        (SearchForm(series_instance_uid="1.2.4"), "DICOMSeriesInstanceUID"),
        (SearchForm(primary_only=True), "isPrimary"),
    ):
        [body] = check_search(form).criteria["filters"]
        assert body["operator"] == "EQUAL" and member in body["values"][0]
    assert check_search(SearchForm()).criteria == {}
    assert describe_criteria({}) == "all image sets"


def test_problems_are_named_by_field() -> None:
    checked = check_search(
        SearchForm(study_instance_uid="1.2.x", study_time_from="080000", created_from="yesterday", updated_from="2024-02-01", updated_to="2024-01-01")
    )
    by_field = {p.field: p.rule for p in checked.problems}
    assert "letters" in by_field["study_instance_uid"]
    assert "needs its date" in by_field["study_time_from"]
    assert "date-time" in by_field["created_from"]
    assert "before the start" in by_field["updated_to"]
    assert not checked.ok and checked.criteria == {}
    reversed_study = check_search(SearchForm(study_date_from="20240201", study_date_to="20240101"))
    assert "before the start" in (reversed_study.problem_for("study_date_to") or "")
    too_many = check_search(SearchForm(patient_id="P", accession_number="A", primary_only=True))
    assert {p.field for p in too_many.problems} == {"patient_id", "accession_number", "primary_only"}
    assert "at most 2 filters" in too_many.problems[0].rule
    too_long = check_search(SearchForm(patient_id="P" * 513))
    assert "at most 512" in (too_long.problem_for("patient_id") or "")


def test_saved_values_round_trip() -> None:
    form = SearchForm(patient_id="P1", primary_only=True, sort_field="createdAt", datastore_id="d" * 32)
    assert SearchForm.from_values(form.values()) == form
    assert SearchForm.from_values({"patient_id": " P1 ", "unknown": "x"}) == SearchForm(patient_id="P1")
    assert SearchForm(sort_field="createdAt").is_empty() and not form.is_empty()


# --- metadata patches -----------------------------------------------------------------------------

DOCUMENT: dict[str, Any] = {
    "SchemaVersion": "1.1",
    "DatastoreID": "d" * 32,
    "ImageSetID": "i" * 32,
    "Patient": {"DICOM": {"PatientName": "Doe^Jane", "PatientID": "P1", "PatientBirthDate": "19700101"}},
    "Study": {
        "DICOM": {"StudyDescription": "CT CHEST", "StudyInstanceUID": "1.2.3", "StudyTime": "093000.25"},
        "Series": {
            "1.2.3.4": {
                "DICOM": {"Modality": "CT", "SeriesNumber": "2 "},
                "Instances": {
                    "1.2.3.4.5": {
                        "DICOM": {
                            "InstanceNumber": "1",
                            "Rows": 64,
                            "ImageType": ["ORIGINAL", "PRIMARY"],
                            "FileMetaInformationVersion": "AAE=",
                            "00191010": "MENU=1",
                            "ReferencedImageSequence": [{"ReferencedSOPInstanceUID": "1.9"}],
                        },
                        "ImageFrames": [
                            {"ID": "f" * 32, "PixelDataChecksumFromBaseToFullResolution": [{"Width": 64, "Height": 64, "Checksum": 7}], "FrameSizeInBytes": 900}
                        ],
                    }
                },
            }
        },
    },
}


def test_patches_mirror_the_document() -> None:
    update = set_attribute(AttributeRef("Patient", "PatientName"), "MX^MX")
    assert update.updatable == {"SchemaVersion": "1.1", "Patient": {"DICOM": {"PatientName": "MX^MX"}}}
    assert json.loads(update.payload()["DICOMUpdates"]["updatableAttributes"]) == update.updatable
    instance_attr = set_attribute(AttributeRef("Instance", "WindowCenter", "1.2.3.4", "1.2.3.4.5"), "40")
    assert instance_attr.updatable["Study"]["Series"]["1.2.3.4"]["Instances"]["1.2.3.4.5"]["DICOM"] == {"WindowCenter": "40"}
    removal = remove_attribute(AttributeRef("Study", "StudyDescription"), "CT CHEST")
    assert removal.removable == {"SchemaVersion": "1.1", "Study": {"DICOM": {"StudyDescription": "CT CHEST"}}}
    assert remove_instance("1.2.3.4", "1.2.3.4.5").removable == {
        "SchemaVersion": "1.1",
        "Study": {"Series": {"1.2.3.4": {"Instances": {"1.2.3.4.5": {}}}}},
    }
    assert remove_series("1.2.3.4").removable == {"SchemaVersion": "1.1", "Study": {"Series": {"1.2.3.4": {}}}}
    assert "updatableAttributes" in update.preview() and "removableAttributes" not in update.preview()
    assert MetadataUpdate().problems()[0].rule == "nothing to update or remove"
    big = set_attribute(AttributeRef("Study", "StudyDescription"), "x" * 11000)
    assert "at most 10240" in big.problems()[0].rule


@pytest.mark.parametrize(
    ("ref", "value", "expected"),
    [
        (AttributeRef("Patient", "PatientName"), "Doe^John", None),
        (AttributeRef("Patient", "PatientName"), "Doe^Jane", "already has"),
        (AttributeRef("Study", "StudyInstanceUID"), "1.2.9", "protected"),
        (AttributeRef("Study", "StudyID"), "9", "protected"),
        (AttributeRef("Patient", "ImageSetID"), "x", "generated by the service"),
        (AttributeRef("Instance", "00191010", "1.2.3.4", "1.2.3.4.5"), "MENU=2", "private"),
        (AttributeRef("Instance", "ImageType", "1.2.3.4", "1.2.3.4.5"), "DERIVED", "multi-valued"),
        (AttributeRef("Instance", "ReferencedImageSequence", "1.2.3.4", "1.2.3.4.5"), "x", "sequence"),
        (AttributeRef("Patient", "PatientBirthDate"), "1970-01-01", "VR DA"),
        (AttributeRef("Instance", "Rows", "1.2.3.4", "1.2.3.4.5"), "sixty", "must be a number"),
        (AttributeRef("Patient", "PatientNmae"), "x", "not a DICOM keyword"),
        (AttributeRef("Series", "Modality", "9.9.9"), "MR", "not in this image set"),
        (AttributeRef("Series", "Modality", "1.2.3.4"), "mr", "VR CS"),
    ],
)
def test_update_constraints_of_4_9_4(ref: AttributeRef, value: str, expected: str | None) -> None:
    problems = update_problems(DOCUMENT, ref, typed_value(ref.keyword, value))
    if expected is None:
        assert problems == []
    else:
        assert problems and expected in problems[0].rule, problems


def test_typed_values_and_removals() -> None:
    assert typed_value("Rows", "128") == 128
    assert typed_value("WindowCenter", "40") == "40"
    assert removal_problems(DOCUMENT, AttributeRef("Study", "StudyDescription")) == []
    assert "not in this version" in removal_problems(DOCUMENT, AttributeRef("Study", "StudyComments"))[0].rule
    assert "private" in removal_problems(DOCUMENT, AttributeRef("Instance", "00191010", "1.2.3.4", "1.2.3.4.5"))[0].rule


# --- the metadata tree ----------------------------------------------------------------------------


def test_values_read_as_people_read_them() -> None:
    assert person_name("Doe^Jane^Q^Dr^PhD") == "Doe, Dr Jane Q PhD"
    assert person_name("Doe") == "Doe"
    assert readable("PatientName", {"Alphabetic": "Doe^Jane"}) == "Doe, Jane"
    assert readable("StudyDate", "20240315") == "2024-03-15"
    assert dicom_time("093000.25") == "09:30:00.25" and dicom_time("0930") == "09:30"
    assert readable("AcquisitionDateTime", "20240315093000") == "2024-03-15 09:30:00"
    assert readable("FileMetaInformationVersion", "AAE=") == "<2 bytes>"
    assert binary_size("not base64!") == "<11 characters>"
    assert readable("StudyID", None) == "(empty)"
    assert readable("ImageType", ["ORIGINAL", "PRIMARY"]) == "ORIGINAL, PRIMARY"


def test_tree_levels_paths_and_search() -> None:
    root = build_tree(DOCUMENT)
    labels = [child.label for child in root.children]
    assert labels == ["SchemaVersion", "DatastoreID", "ImageSetID", "Patient", "Study"]
    [name] = find(root, "jane")
    assert name.text() == "PatientName: Doe, Jane" and name.ref == AttributeRef("Patient", "PatientName")
    assert value_at(DOCUMENT, name.path) == "Doe^Jane"
    [series] = [n for n in root.walk() if n.kind is NodeKind.SERIES]
    assert series.label.startswith("Series 2 · CT")
    [instance] = [n for n in root.walk() if n.kind is NodeKind.INSTANCE]
    assert instance.sop_uid == "1.2.3.4.5" and instance.value == "1 frame"
    [private] = find(root, "menu=1")
    assert private.label == "(0019,1010)"
    [sequence] = [n for n in root.walk() if n.label.startswith("ReferencedImageSequence")]
    assert sequence.children[0].children[0].text() == "ReferencedSOPInstanceUID: 1.9"
    [checksums] = find(root, "CRC-32 7")
    assert checksums.value == "64×64 CRC-32 7"
    assert value_at(DOCUMENT, checksums.path)[0]["Checksum"] == 7
    assert find(root, "  ") == []


def test_export_is_atomic_and_readable(tmp_path: Path) -> None:
    target = export_metadata(DOCUMENT, tmp_path / "out" / "metadata.json")
    assert json.loads(target.read_text()) == DOCUMENT
    assert [p.name for p in target.parent.iterdir()] == ["metadata.json"]
    with pytest.raises(OSError):
        export_metadata(DOCUMENT, tmp_path / "out" / "metadata.json" / "below-a-file.json")
    assert json.loads(target.read_text()) == DOCUMENT


def test_arn_and_settled() -> None:
    assert image_set_arn("us-east-1", "123456789012", "d" * 32, "i" * 32).startswith("arn:aws:medical-imaging:us-east-1:123456789012:datastore/")
    assert image_set_arn("cn-north-1", "1", "d", "i").startswith("arn:aws-cn:")
    locked = ImageSetState.from_response("d", {"imageSetId": "i", "latestVersionId": "2", "imageSetState": "LOCKED", "imageSetWorkflowStatus": "UPDATING"})
    assert locked.version_id == "2" and not settled(locked) and settled(None)
    listed = ImageSetState.from_response("d", {"imageSetId": "i", "versionId": "1", "imageSetState": "ACTIVE", "ImageSetWorkflowStatus": "COPY_FAILED", "message": "no"})
    assert listed.workflow_status == "COPY_FAILED" and listed.failed
    assert readable_version(locked) == "1" and readable_version(listed) == "1"
    new_copy = ImageSetState.from_response("d", {"imageSetId": "i", "latestVersionId": "1", "imageSetState": "LOCKED"})
    assert readable_version(new_copy) == "1"


# --- over HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def endpoint_config(endpoint_config: EndpointConfig) -> EndpointConfig:
    endpoint_config.datastore_transition_seconds = 0
    endpoint_config.imageset_lock_seconds = 0.05
    return endpoint_config


@pytest.fixture
def world(mi: Any, s3: Any) -> World:
    return import_world(mi, s3)


def test_search_criteria_from_the_form_find_what_is_stored(hub: Connection, world: World) -> None:
    service = hub.imagesets

    def ids(form: SearchForm) -> set[str]:
        checked = check_search(form)
        assert checked.ok, checked.problems
        return {s.id for s in service.search(world.datastore_id, checked.criteria).summaries}

    everything = set(world.image_sets.values())
    assert ids(SearchForm()) == everything
    assert ids(SearchForm(patient_id=PATIENT_A.patient_id)) == {world.image_sets["ct"], world.image_sets["us"]}
    assert ids(SearchForm(accession_number=PATIENT_B.accession)) == {world.image_sets["ct2"]}
    assert ids(SearchForm(study_date_from="20240401", study_date_to="20240401")) == {world.image_sets["ct2"]}
    assert ids(SearchForm(study_date_to="20240331")) == {world.image_sets["ct"], world.image_sets["us"]}
    assert ids(SearchForm(created_from="2000-01-01", primary_only=True)) == everything
    assert ids(SearchForm(updated_to="2000-01-01")) == set()
    page = service.search(world.datastore_id, check_search(SearchForm(sort_field="createdAt", sort_order="ASC")).criteria)
    assert page.sort == {"sortField": "createdAt", "sortOrder": "ASC"}
    first = page.summaries[0]
    assert first.arn == f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{world.datastore_id}/imageset/{first.id}"
    assert first.dicom["DICOMPatientId"] in (PATIENT_A.patient_id, PATIENT_B.patient_id)
    service.page_size = 1
    first_page = service.search(world.datastore_id, {})
    second_page = service.search(world.datastore_id, {}, first_page.next_token)
    assert len(first_page.summaries) == 1 and first_page.next_token and second_page.summaries[0].id != first_page.summaries[0].id


def test_update_revert_copy_and_delete_over_http(hub: Connection, world: World, mi: Any) -> None:
    service, store, ct = hub.imagesets, world.datastore_id, world.ct
    metadata = service.metadata(store, ct)
    assert metadata.document["ImageSetID"] == ct and metadata.compressed_bytes < metadata.json_bytes
    locked = service.update(store, ct, "1", set_attribute(AttributeRef("Patient", "PatientName"), "Phantom^Renamed"))
    assert (locked.state, locked.workflow_status, locked.version_id) == ("LOCKED", "UPDATING", "2")
    wait_until_active(mi, store, ct)
    assert service.metadata(store, ct).document["Patient"]["DICOM"]["PatientName"] == "Phantom^Renamed"
    assert service.get(store, ct).workflow_status == "UPDATED"
    with pytest.raises(AwsCallError) as stale:
        service.update(store, ct, "1", set_attribute(AttributeRef("Patient", "PatientName"), "Again^Stale"))
    assert stale.value.code == "ConflictException"
    service.revert(store, ct, "2", "1")
    wait_until_active(mi, store, ct)
    assert service.metadata(store, ct).document["Patient"]["DICOM"]["PatientName"] == PATIENT_A.patient_name
    versions = service.versions(store, ct)
    assert [v.version_id for v in versions] == ["3", "2", "1"] and versions[1].workflow_status == "UPDATED"
    assert service.metadata(store, ct, "2").document["Patient"]["DICOM"]["PatientName"] == "Phantom^Renamed"

    copied = service.copy(store, ct, "3")
    assert copied.source.workflow_status == "COPYING_WITH_READ_ONLY_ACCESS" and copied.destination.version_id == "1"
    final = wait_until_active(mi, store, copied.destination.id)
    assert final["imageSetWorkflowStatus"] == "COPIED"
    wait_until_active(mi, store, ct)
    into = service.copy(store, world.image_sets["ct2"], "1", copied.destination.id)
    assert into.destination.id == copied.destination.id and into.destination.version_id == "2"
    wait_until_active(mi, store, copied.destination.id)

    instance = next(iter(metadata.document["Study"]["Series"].values()))
    series_uid = next(iter(metadata.document["Study"]["Series"]))
    sop_uid = sorted(instance["Instances"])[0]
    service.update(store, ct, "3", remove_instance(series_uid, sop_uid))
    wait_until_active(mi, store, ct)
    assert sop_uid not in service.metadata(store, ct).document["Study"]["Series"][series_uid]["Instances"]

    deleting = service.delete(store, ct)
    assert (deleting.state, deleting.workflow_status) == ("LOCKED", "DELETING")
    deadline = time.monotonic() + 10
    while not settled(service.get_or_none(store, ct)):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert ct not in {s.id for s in service.search(store, {}).summaries}


def test_metadata_blob_is_gzip_on_the_wire(hub: Connection, world: World, mi: Any) -> None:
    raw = mi.get_image_set_metadata(datastoreId=world.datastore_id, imageSetId=world.ct)["imageSetMetadataBlob"].read()
    assert hub.imagesets.metadata(world.datastore_id, world.ct).document == json.loads(gzip.decompress(raw))
