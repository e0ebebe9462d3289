"""AWS's own Python examples (awsdocs/aws-doc-sdk-examples, medical-imaging) run against the local endpoint.

The calls, arguments, waits and reads follow docs/clients.md#the-usage-demo
(`medical_imaging_basics.usage_demo`) and docs/clients.md#the-image-sets-and-frames-scenario (the
`imaging_set_and_frames_workflow` scenario) step by step; only the polling intervals are shorter.
The wrapper below mirrors the examples' `MedicalImagingWrapper` methods that the steps use.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import time
import zlib
from pathlib import Path
from typing import Any

import jmespath
import openjpeg.utils
import pytest
from botocore.exceptions import ClientError

from ahi.emulator.demo import phantoms
from ahi.emulator.demo.phantoms import Subject

POLL_SECONDS = 0.05
ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
DEMO_SUBJECT = Subject(patient_id="3524578", study_date="20200101", study_time="101500")


class MedicalImagingWrapper:
    """The example wrapper's methods used by the flows: one boto3 call each, results as the examples take them."""

    def __init__(self, health_imaging_client: Any) -> None:
        self.client = health_imaging_client

    def create_datastore(self, name: str) -> str:
        return str(self.client.create_datastore(datastoreName=name)["datastoreId"])

    def get_datastore_properties(self, datastore_id: str) -> dict[str, Any]:
        return dict(self.client.get_datastore(datastoreId=datastore_id)["datastoreProperties"])

    def list_datastores(self) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("list_datastores").paginate()
        return [summary for page in pages for summary in page["datastoreSummaries"]]

    def start_dicom_import_job(self, job_name: str, datastore_id: str, role_arn: str, input_uri: str, output_uri: str) -> str:
        response = self.client.start_dicom_import_job(
            jobName=job_name, datastoreId=datastore_id, dataAccessRoleArn=role_arn, inputS3Uri=input_uri, outputS3Uri=output_uri
        )
        return str(response["jobId"])

    def get_dicom_import_job(self, datastore_id: str, job_id: str) -> dict[str, Any]:
        return dict(self.client.get_dicom_import_job(jobId=job_id, datastoreId=datastore_id)["jobProperties"])

    def list_dicom_import_jobs(self, datastore_id: str) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("list_dicom_import_jobs").paginate(datastoreId=datastore_id)
        return [summary for page in pages for summary in page["jobSummaries"]]

    def search_image_sets(self, datastore_id: str, search_filter: dict[str, Any]) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("search_image_sets").paginate(datastoreId=datastore_id, searchCriteria=search_filter)
        return [summary for page in pages for summary in page["imageSetsMetadataSummaries"]]

    def get_image_set(self, datastore_id: str, image_set_id: str, version_id: str | None = None) -> dict[str, Any]:
        if version_id:
            return dict(self.client.get_image_set(imageSetId=image_set_id, datastoreId=datastore_id, versionId=version_id))
        return dict(self.client.get_image_set(imageSetId=image_set_id, datastoreId=datastore_id))

    def get_image_set_metadata(self, metadata_file: Path, datastore_id: str, image_set_id: str) -> None:
        """Writes the blob as it comes: still gzip-compressed."""
        response = self.client.get_image_set_metadata(imageSetId=image_set_id, datastoreId=datastore_id)
        with open(metadata_file, "wb") as f:
            for chunk in response["imageSetMetadataBlob"].iter_chunks():
                if chunk:
                    f.write(chunk)

    def get_pixel_data(self, file_path: Path, datastore_id: str, image_set_id: str, image_frame_id: str) -> None:
        response = self.client.get_image_frame(
            datastoreId=datastore_id, imageSetId=image_set_id, imageFrameInformation={"imageFrameId": image_frame_id}
        )
        with open(file_path, "wb") as f:
            for chunk in response["imageFrameBlob"].iter_chunks():
                if chunk:
                    f.write(chunk)

    def list_image_set_versions(self, datastore_id: str, image_set_id: str) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("list_image_set_versions").paginate(imageSetId=image_set_id, datastoreId=datastore_id)
        return [item for page in pages for item in page["imageSetPropertiesList"]]

    def update_image_set_metadata(
        self, datastore_id: str, image_set_id: str, version_id: str, metadata: dict[str, Any], force: bool = False
    ) -> dict[str, Any]:
        return dict(
            self.client.update_image_set_metadata(
                imageSetId=image_set_id,
                datastoreId=datastore_id,
                latestVersionId=version_id,
                updateImageSetMetadataUpdates=metadata,
                force=force,
            )
        )

    def copy_image_set(self, datastore_id: str, image_set_id: str, version_id: str, force: bool = False) -> str:
        copy_image_set_information = {"sourceImageSet": {"latestVersionId": version_id}}
        response = self.client.copy_image_set(
            datastoreId=datastore_id,
            sourceImageSetId=image_set_id,
            copyImageSetInformation=copy_image_set_information,
            force=force,
        )
        return str(response["destinationImageSetProperties"]["imageSetId"])

    def delete_image_set(self, datastore_id: str, image_set_id: str) -> dict[str, Any]:
        return dict(self.client.delete_image_set(imageSetId=image_set_id, datastoreId=datastore_id))

    def delete_datastore(self, datastore_id: str) -> None:
        self.client.delete_datastore(datastoreId=datastore_id)


def upload(s3: Any, bucket: str, prefix: str, files: list[tuple[str, bytes]], *also: str) -> None:
    for name in (bucket, *also):
        s3.create_bucket(Bucket=name)
    for name, data in files:
        s3.put_object(Bucket=bucket, Key=f"{prefix}{name}", Body=data)


def wait_while_locked(wrapper: MedicalImagingWrapper, datastore_id: str, image_set_id: str) -> None:
    """The demo's wait: poll GetImageSet while LOCKED; a ClientError also ends it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if wrapper.get_image_set(datastore_id, image_set_id)["imageSetState"] != "LOCKED":
                return
        except ClientError:
            return
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"{image_set_id} stayed LOCKED")


def test_usage_demo(mi: Any, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/clients.md#the-usage-demo: every step of `usage_demo`, with its waits and the values it reads."""
    monkeypatch.chdir(tmp_path)
    upload(s3, "medical-imaging-dicom-input", "dicom_input/", phantoms.ct_series(3, 32, subject=DEMO_SUBJECT),
           "medical-imaging-output")
    wrapper = MedicalImagingWrapper(mi)

    datastore_id = wrapper.create_datastore(f"python_usage_demo_data_store_{os.getpid()}")
    while (status := wrapper.get_datastore_properties(datastore_id)["datastoreStatus"]) != "ACTIVE":
        assert status != "CREATE_FAILED"
        time.sleep(POLL_SECONDS)
    assert datastore_id in [summary["datastoreId"] for summary in wrapper.list_datastores()]

    job_id = wrapper.start_dicom_import_job(
        "python_usage_demo_job", datastore_id, ROLE,
        "s3://medical-imaging-dicom-input/dicom_input/", "s3://medical-imaging-output/job_output/",
    )
    while (job_status := wrapper.get_dicom_import_job(datastore_id, job_id)["jobStatus"]) != "COMPLETED":
        assert job_status != "FAILED"
        time.sleep(POLL_SECONDS)
    assert [job["jobId"] for job in wrapper.list_dicom_import_jobs(datastore_id)] == [job_id]

    by_patient = wrapper.search_image_sets(
        datastore_id, {"filters": [{"values": [{"DICOMPatientId": "3524578"}], "operator": "EQUAL"}]}
    )
    by_study_date = wrapper.search_image_sets(
        datastore_id,
        {"filters": [{"values": [
            {"DICOMStudyDateAndTime": {"DICOMStudyDate": "19900101", "DICOMStudyTime": "000000"}},
            {"DICOMStudyDateAndTime": {"DICOMStudyDate": "20230101", "DICOMStudyTime": "000000"}},
        ], "operator": "BETWEEN"}]},
    )
    image_sets = wrapper.search_image_sets(
        datastore_id,
        {"filters": [{"values": [
            {"createdAt": dt.datetime(2021, 8, 4, 14, 49, 54, 429000)},
            {"createdAt": dt.datetime.now() + dt.timedelta(days=1)},
        ], "operator": "BETWEEN"}]},
    )
    assert len(by_patient) == len(by_study_date) == len(image_sets) == 1
    image_set_id, version = image_sets[0]["imageSetId"], image_sets[0]["version"]
    assert isinstance(version, int)

    assert wrapper.get_image_set(datastore_id, image_set_id, str(version))["versionId"] == "1"
    wrapper.get_image_set_metadata(Path("metadata.json.gzip"), datastore_id, image_set_id)
    with gzip.open("metadata.json.gzip", "rb") as f_in:
        doc = json.load(f_in)
    image_frame_id = None
    for series in doc["Study"]["Series"].values():
        for instance in series["Instances"].values():
            image_frame_id = instance["ImageFrames"][0]["ID"]
            break
    assert image_frame_id, "Image frame id is empty"
    wrapper.get_pixel_data(Path("image_frame.jph"), datastore_id, image_set_id, image_frame_id)
    assert Path("image_frame.jph").stat().st_size > 0
    assert [v["versionId"] for v in wrapper.list_image_set_versions(datastore_id, image_set_id)] == ["1"]

    copied_image_set_id = wrapper.copy_image_set(datastore_id, image_set_id, str(version))
    wait_while_locked(wrapper, datastore_id, copied_image_set_id)
    metadata = {"DICOMUpdates": {"updatableAttributes": '{"SchemaVersion":1.1,"Patient":{"DICOM":{"PatientName":"Garcia^Gloria"}}}'}}
    updated = wrapper.update_image_set_metadata(datastore_id, copied_image_set_id, "1", metadata)
    assert updated["latestVersionId"] == "2"

    for each in (image_set_id, copied_image_set_id):
        wait_while_locked(wrapper, datastore_id, each)
    for each in (image_set_id, copied_image_set_id):
        wrapper.delete_image_set(datastore_id, each)
    for each in (image_set_id, copied_image_set_id):
        deadline = time.monotonic() + 30
        while wrapper.get_image_set(datastore_id, each)["imageSetState"] != "DELETED":
            assert time.monotonic() < deadline
            time.sleep(POLL_SECONDS)
    wrapper.delete_datastore(datastore_id)
    assert wrapper.get_datastore_properties(datastore_id)["datastoreStatus"] in ("DELETING", "DELETED")


def get_image_sets_for_dicom_import_job(wrapper: MedicalImagingWrapper, s3: Any, datastore_id: str, job_id: str) -> list[str]:
    """The scenario's manifest read: `<outputS3Uri>job-output-manifest.json`, three tries, jmespath."""
    import_job = wrapper.get_dicom_import_job(datastore_id, job_id)
    output_uri = import_job["outputS3Uri"]
    bucket = output_uri.split("/")[2]
    key = "/".join(output_uri.split("/")[3:])
    body = None
    for _ in range(3):
        try:
            body = s3.get_object(Bucket=bucket, Key=key + "job-output-manifest.json")["Body"].read()
            break
        except ClientError:
            time.sleep(POLL_SECONDS * 4)
    assert body is not None, "the manifest never appeared"
    return list(jmespath.search("jobSummary.imageSetsSummary[].imageSetId", json.loads(body)))


def get_image_frames_for_image_set(
    wrapper: MedicalImagingWrapper, datastore_id: str, image_set_id: str, out_directory: Path
) -> list[dict[str, Any]]:
    """The scenario's metadata walk: slope, intercept and, per frame, ID, min, max and full-resolution checksum."""
    file_name = out_directory / f"{image_set_id}_metadata.json.gzip"
    wrapper.get_image_set_metadata(file_name, datastore_id, image_set_id)
    with gzip.open(file_name, "rb") as f_in:
        doc = json.load(f_in)
    frames = []
    for instance in jmespath.search("Study.Series.*.Instances[].*[]", doc):
        rescale_slope = jmespath.search("DICOM.RescaleSlope", instance)
        rescale_intercept = jmespath.search("DICOM.RescaleIntercept", instance)
        for image_frame in jmespath.search("ImageFrames[][]", instance):
            checksum_json = jmespath.search("max_by(PixelDataChecksumFromBaseToFullResolution, &Width)", image_frame)
            frames.append({
                "imageSetId": image_set_id,
                "imageFrameId": image_frame["ID"],
                "rescaleIntercept": rescale_intercept,
                "rescaleSlope": rescale_slope,
                "minPixelValue": image_frame["MinPixelValue"],
                "maxPixelValue": image_frame["MaxPixelValue"],
                "fullResolutionChecksum": checksum_json["Checksum"],
            })
    return frames


def download_decode_and_check_image_frames(
    wrapper: MedicalImagingWrapper, datastore_id: str, image_frames: list[dict[str, Any]], out_directory: Path
) -> bool:
    """The scenario's check: JP2-format decode with openjpeg, then CRC-32 against the full-resolution checksum."""
    all_verified = True
    for frame in image_frames:
        path = out_directory / f"image_{frame['imageFrameId']}.jph"
        wrapper.get_pixel_data(path, datastore_id, frame["imageSetId"], frame["imageFrameId"])
        openjpeg.utils.get_parameters(str(path), 2)
        image_array = openjpeg.utils.decode(str(path), 2)
        all_verified &= zlib.crc32(image_array) == frame["fullResolutionChecksum"]
    return all_verified


def test_image_sets_and_frames_scenario(mi: Any, s3: Any, tmp_path: Path) -> None:
    """Import, manifest, metadata walk, frame download, decode and checksum, cleanup.

    The steps of docs/clients.md#the-image-sets-and-frames-scenario.
    """
    bucket = "scenario-stack-bucket"
    upload(s3, bucket, "input/", phantoms.ct_series(2, 32) + phantoms.mr_series(2, 32))
    wrapper = MedicalImagingWrapper(mi)
    datastore_id = wrapper.create_datastore("scenario-store")
    while wrapper.get_datastore_properties(datastore_id)["datastoreStatus"] != "ACTIVE":
        time.sleep(POLL_SECONDS)
    job_id = wrapper.start_dicom_import_job(
        "examplejob", datastore_id, ROLE, f"s3://{bucket}/input/", f"s3://{bucket}/output/"
    )
    while wrapper.get_dicom_import_job(datastore_id, job_id)["jobStatus"] in ("SUBMITTED", "IN_PROGRESS"):
        time.sleep(POLL_SECONDS)
    image_set_ids = get_image_sets_for_dicom_import_job(wrapper, s3, datastore_id, job_id)
    assert len(image_set_ids) == 2

    for image_set_id in image_set_ids:
        frames = get_image_frames_for_image_set(wrapper, datastore_id, image_set_id, tmp_path)
        assert len(frames) == 2
        assert all(frame["rescaleSlope"] is not None for frame in frames if frame["rescaleIntercept"] is not None)
        assert download_decode_and_check_image_frames(wrapper, datastore_id, frames, tmp_path)

    listed = wrapper.search_image_sets(datastore_id, {})
    assert sorted(summary["imageSetId"] for summary in listed) == sorted(image_set_ids)
    for summary in listed:
        wrapper.delete_image_set(datastore_id, summary["imageSetId"])
    for image_set_id in image_set_ids:
        wait_while_locked(wrapper, datastore_id, image_set_id)
        assert wrapper.get_image_set(datastore_id, image_set_id)["imageSetState"] == "DELETED"
    assert wrapper.search_image_sets(datastore_id, {}) == []
