"""StartDICOMImportJob's importConfiguration: DICOM JSON metadata files applied to the job's P10 files (boto3 over HTTP)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pydicom
import pytest
from botocore.exceptions import ClientError
from import_job_helpers import (
    INPUT_BUCKET,
    OUTPUT_BUCKET,
    ROLE,
    active_datastore,
    instances_of,
    metadata,
    read_output,
    start,
    upload,
    wait_for_job,
)

from ahi.emulator.demo.phantoms import Subject, ct_series, mr_series

SUBJECT = Subject()


def uids(files: list[tuple[str, bytes]]) -> list[tuple[str, str, str]]:
    """(study, series, SOP instance) UIDs of each phantom file."""
    found = []
    for _, data in files:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        found.append((str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)))
    return found


def configuration(*mappings: dict[str, str]) -> dict[str, Any]:
    return {"dicomJsonMetadataImportConfiguration": {"dicomMetadataMappings": list(mappings)}}


def pn(value: str) -> dict[str, Any]:
    return {"vr": "PN", "Value": [{"Alphabetic": value}]}


def text(vr: str, value: str) -> dict[str, Any]:
    return {"vr": vr, "Value": [value]}


def image_set_of_series(mi: Any, datastore_id: str, series_uid: str) -> str:
    found = mi.search_image_sets(
        datastoreId=datastore_id,
        searchCriteria={"filters": [{"operator": "EQUAL", "values": [{"DICOMSeriesInstanceUID": series_uid}]}]},
    )["imageSetsMetadataSummaries"]
    assert len(found) == 1, found
    return str(found[0]["imageSetId"])


def test_study_series_and_instance_objects_change_what_is_stored(mi: Any, s3: Any) -> None:
    ct, mr = ct_series(3, 32), mr_series(2, 32)
    (study, ct_series_uid, first_ct), *_ = uids(ct)
    (_, mr_series_uid, _), *_ = uids(mr)
    study_file = {"00100010": pn("Corrected^Name"), "00081030": text("LO", "Corrected study")}
    # One object for the whole series plus one for a single instance, in DICOMweb's array form.
    series_file = [
        {"0008103E": text("LO", "Corrected series"), "00100010": pn("Series^Wins")},
        {"00080018": text("UI", first_ct), "00204000": text("LT", "only this slice")},
    ]
    upload(
        s3,
        [*ct, *mr, ("meta/study.json", json.dumps(study_file).encode()), ("meta/ct.json", json.dumps(series_file).encode())],
    )
    datastore_id = active_datastore(mi)
    config = configuration(
        {"studyInstanceUID": study, "seriesInstanceUID": ct_series_uid, "metadataFilePath": "meta/ct.json"},
        {"studyInstanceUID": study, "metadataFilePath": "meta/study.json"},
    )
    job_id = start(mi, datastore_id, importConfiguration=config)
    properties = wait_for_job(mi, datastore_id, job_id)

    assert properties["jobStatus"] == "COMPLETED"
    assert properties["importConfiguration"] == config
    assert "importConfiguration" not in mi.list_dicom_import_jobs(datastoreId=datastore_id)["jobSummaries"][0]
    output = read_output(s3, properties)
    assert output.failure == []
    assert output.manifest["numberOfScannedFiles"] == 5, "metadata files are not P10 inputs"
    assert {line["inputFile"] for line in output.success} == {f"in/{name}" for name, _ in [*ct, *mr]}

    ct_document = metadata(mi, datastore_id, image_set_of_series(mi, datastore_id, ct_series_uid))
    mr_document = metadata(mi, datastore_id, image_set_of_series(mi, datastore_id, mr_series_uid))
    assert ct_document["Patient"]["DICOM"]["PatientName"] == "Series^Wins", "a series mapping wins over its study's"
    assert mr_document["Patient"]["DICOM"]["PatientName"] == "Corrected^Name"
    assert mr_document["Study"]["DICOM"]["StudyDescription"] == "Corrected study"
    assert ct_document["Study"]["DICOM"]["StudyDescription"] == "Corrected study"
    ct_series_block = ct_document["Study"]["Series"][ct_series_uid]
    assert ct_series_block["DICOM"]["SeriesDescription"] == "Corrected series"
    assert mr_document["Study"]["Series"][mr_series_uid]["DICOM"]["SeriesDescription"] != "Corrected series"
    comments = {sop: block["DICOM"].get("ImageComments") for sop, block in instances_of(ct_document).items()}
    assert comments.pop(first_ct) == "only this slice"
    assert set(comments.values()) == {None}
    found = mi.search_image_sets(
        datastoreId=datastore_id,
        searchCriteria={"filters": [{"operator": "EQUAL", "values": [{"DICOMPatientId": SUBJECT.patient_id}]}]},
    )["imageSetsMetadataSummaries"]
    names = sorted(summary["DICOMTags"]["DICOMPatientName"] for summary in found)
    assert names == ["Corrected^Name", "Series^Wins"]


def test_bad_metadata_files_fail_the_files_they_cover_with_lines_naming_the_mapping(mi: Any, s3: Any) -> None:
    ct = ct_series(2, 32)
    mr = mr_series(2, 32, subject=Subject(study_key="study-2", patient_id="P2"))
    other = ct_series(1, 32, subject=Subject(study_key="study-3", patient_id="P3"), series_key="other")
    (ct_study, _, _), *_ = uids(ct)
    (mr_study, _, _), *_ = uids(mr)
    upload(
        s3,
        [
            *ct,
            *mr,
            *other,
            ("meta/uid.json", json.dumps({"0020000D": text("UI", "1.2.3")}).encode()),
            ("meta/broken.json", b"{not json"),
        ],
    )
    datastore_id = active_datastore(mi)
    job_id = start(
        mi,
        datastore_id,
        importConfiguration=configuration(
            {"studyInstanceUID": ct_study, "metadataFilePath": "meta/uid.json"},
            {"studyInstanceUID": mr_study, "metadataFilePath": "meta/missing.json"},
            {"studyInstanceUID": "1.2.840.99999", "metadataFilePath": "meta/broken.json"},
        ),
    )
    properties = wait_for_job(mi, datastore_id, job_id)
    assert properties["jobStatus"] == "COMPLETED"
    output = read_output(s3, properties)

    assert [line["inputFile"] for line in output.success] == [f"in/{other[0][0]}"], "uncovered files still import"
    failures = {line["inputFile"]: line["exception"] for line in output.failure}
    for name, _ in ct:
        message = failures.pop(f"in/{name}")["message"]
        assert "mapping 1 (study level, metadataFilePath meta/uid.json)" in message
        assert "sets StudyInstanceUID, which a metadata file may not change" in message
    for name, _ in mr:
        message = failures.pop(f"in/{name}")["message"]
        assert f"metadata file s3://{INPUT_BUCKET}/in/meta/missing.json does not exist" in message
    assert "may not change" in failures.pop("in/meta/uid.json")["message"]
    assert "does not exist" in failures.pop("in/meta/missing.json")["message"]
    broken = failures.pop("in/meta/broken.json")
    assert broken["exceptionType"] == "ValidationException"
    assert "the metadata file is not JSON" in broken["message"]
    assert failures == {}
    assert ct_study not in json.dumps(output.failure), "study UIDs are sensitive: lines name mappings by position"


def test_a_mapping_that_matches_no_file_is_reported_and_the_rest_imports(mi: Any, s3: Any) -> None:
    ct = ct_series(1, 32)
    upload(s3, [*ct, ("nobody.json", json.dumps({"00081030": text("LO", "x")}).encode())])
    datastore_id = active_datastore(mi)
    job_id = start(
        mi,
        datastore_id,
        importConfiguration=configuration({"studyInstanceUID": "1.2.3.4", "metadataFilePath": "nobody.json"}),
    )
    output = read_output(s3, wait_for_job(mi, datastore_id, job_id))
    assert len(output.success) == 1
    [line] = output.failure
    assert line["inputFile"] == "in/nobody.json"
    assert "mapping 1 (study level, metadataFilePath nobody.json) matched no DICOM P10 file" in line["exception"]["message"]


def test_the_same_study_and_series_twice_is_a_validation_exception_naming_the_member(mi: Any, s3: Any) -> None:
    upload(s3, ct_series(1, 32))
    datastore_id = active_datastore(mi)
    mapping = {"studyInstanceUID": "1.2.3", "metadataFilePath": "a.json"}
    with pytest.raises(ClientError) as caught:
        start(mi, datastore_id, importConfiguration=configuration(mapping, {**mapping, "metadataFilePath": "b.json"}))
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "ValidationException"
    assert "dicomMetadataMappings.2.member" in error["Message"] and "member 1" in error["Message"]
    assert "1.2.3" not in error["Message"]
    assert mi.list_dicom_import_jobs(datastoreId=datastore_id)["jobSummaries"] == []


def test_a_retry_with_the_same_token_and_another_configuration_is_a_conflict(mi: Any, s3: Any) -> None:
    upload(s3, ct_series(1, 32))
    datastore_id = active_datastore(mi)
    first = configuration({"studyInstanceUID": "1.2.3", "metadataFilePath": "a.json"})

    def send(config: dict[str, Any]) -> str:
        return str(
            mi.start_dicom_import_job(
                datastoreId=datastore_id,
                dataAccessRoleArn=ROLE,
                inputS3Uri=f"s3://{INPUT_BUCKET}/in/",
                outputS3Uri=f"s3://{OUTPUT_BUCKET}/out/",
                clientToken="same-token",
                importConfiguration=config,
            )["jobId"]
        )

    job_id = send(first)
    assert send(first) == job_id
    with pytest.raises(ClientError) as caught:
        send(configuration({"studyInstanceUID": "1.2.3", "metadataFilePath": "b.json"}))
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    wait_for_job(mi, datastore_id, job_id)


@pytest.mark.awscli
def test_the_aws_cli_sends_a_configuration_file_and_reads_it_back(
    aws_env: dict[str, str], mi: Any, s3: Any, tmp_path: Path
) -> None:
    ct = ct_series(1, 32)
    (study, _, _), *_ = uids(ct)
    upload(s3, [*ct, ("fix.json", json.dumps({"00081030": text("LO", "From the CLI")}).encode())])
    datastore_id = active_datastore(mi)
    config = configuration({"studyInstanceUID": study, "metadataFilePath": "fix.json"})
    (tmp_path / "config.json").write_text(json.dumps(config))
    aws = Path(sys.executable).with_name("aws")
    done = subprocess.run(
        [
            str(aws), "medical-imaging", "start-dicom-import-job", "--output", "json",
            "--datastore-id", datastore_id, "--data-access-role-arn", ROLE,
            "--input-s3-uri", f"s3://{INPUT_BUCKET}/in/", "--output-s3-uri", f"s3://{OUTPUT_BUCKET}/out/",
            "--import-configuration", f"file://{tmp_path / 'config.json'}",
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    properties = wait_for_job(mi, datastore_id, json.loads(done.stdout)["jobId"])
    assert properties["importConfiguration"] == config
    [summary] = mi.search_image_sets(datastoreId=datastore_id)["imageSetsMetadataSummaries"]
    assert summary["DICOMTags"]["DICOMStudyDescription"] == "From the CLI"
