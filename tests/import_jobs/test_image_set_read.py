"""GetImageSet, ListImageSetVersions, GetImageSetMetadata and GetImageFrame on imported image sets."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from typing import Any

import numpy as np
import pydicom
import pytest
import urllib3
from botocore.exceptions import ClientError
from import_job_helpers import active_datastore, instances_of, metadata, read_output, start, upload, wait_for_job
from openjpeg import decode as openjpeg_decode

from ahi.emulator.demo.phantoms import ct_series, multiframe_cine, ultrasound_rgb


@pytest.fixture
def imported(mi: Any, s3: Any) -> dict[str, Any]:
    """A data store with a CT series (3 slices), an RGB ultrasound and a multi-frame cine imported."""
    files = ct_series(3, 64) + ultrasound_rgb(rows=48, cols=64) + multiframe_cine(frames=4, size=32)
    upload(s3, files)
    datastore_id = active_datastore(mi)
    properties = wait_for_job(mi, datastore_id, start(mi, datastore_id))
    output = read_output(s3, properties)
    by_file = {line["inputFile"]: line["importResponse"]["imageSetId"] for line in output.success}
    return {"datastore_id": datastore_id, "files": dict(files), "by_file": by_file, "output": output}


def error_of(exc_info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc_info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_get_image_set(mi: Any, imported: dict[str, Any]) -> None:
    datastore_id = imported["datastore_id"]
    image_set_id = imported["by_file"]["in/ct/ct-0001.dcm"]
    got = mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)
    assert got["versionId"] == "1"
    assert (got["imageSetState"], got["imageSetWorkflowStatus"]) == ("ACTIVE", "CREATED")
    assert (
        got["imageSetArn"]
        == f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{datastore_id}/imageset/{image_set_id}"
    )
    assert got["createdAt"] == got["updatedAt"]
    assert got["isPrimary"] is True
    assert mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id, versionId="1")["versionId"] == "1"
    with pytest.raises(ClientError) as exc_info:
        mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id, versionId="2")
    assert error_of(exc_info) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as exc_info:
        mi.get_image_set(datastoreId=datastore_id, imageSetId="0" * 32)
    assert error_of(exc_info) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as exc_info:
        mi.get_image_set(datastoreId="0" * 32, imageSetId=image_set_id)
    assert error_of(exc_info) == ("ResourceNotFoundException", 404)


def test_list_image_set_versions(mi: Any, imported: dict[str, Any]) -> None:
    image_set_id = imported["by_file"]["in/us/doppler-0001.dcm"]
    versions = mi.list_image_set_versions(datastoreId=imported["datastore_id"], imageSetId=image_set_id)
    [only] = versions["imageSetPropertiesList"]
    assert only["ImageSetWorkflowStatus"] == "CREATED", "capital I, as the model spells it here"
    assert (only["versionId"], only["imageSetState"], only["imageSetId"]) == ("1", "ACTIVE", image_set_id)
    assert "nextToken" not in versions


def test_metadata_document_and_headers(mi: Any, imported: dict[str, Any], endpoint: Any) -> None:
    datastore_id = imported["datastore_id"]
    image_set_id = imported["by_file"]["in/ct/ct-0002.dcm"]
    response = mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id, versionId="1")
    assert (response["contentType"], response["contentEncoding"]) == ("application/json", "gzip")
    body = response["imageSetMetadataBlob"].read()
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["content-length"]) == len(body), "Content-Length is the compressed size"
    document = json.loads(gzip.decompress(body))
    assert (document["SchemaVersion"], document["DatastoreID"], document["ImageSetID"]) == (
        "1.1",
        datastore_id,
        image_set_id,
    )
    assert document["Patient"]["DICOM"]["PatientID"] == "AHI-DEMO-001"
    assert document["Study"]["DICOM"]["AccessionNumber"] == "ACC0001"
    instances = instances_of(document)
    assert len(instances) == 3
    with pytest.raises(ClientError) as exc_info:
        mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id, versionId="9")
    assert error_of(exc_info) == ("ResourceNotFoundException", 404)


def test_frames_decode_exactly_and_match_their_checksums(mi: Any, imported: dict[str, Any]) -> None:
    datastore_id = imported["datastore_id"]
    for name in ("in/ct/ct-0003.dcm", "in/us/doppler-0001.dcm", "in/cine/cine-0001.dcm"):
        image_set_id = imported["by_file"][name]
        source = pydicom.dcmread(io.BytesIO(imported["files"][name.removeprefix("in/")]))
        expected = source.pixel_array
        if int(source.get("NumberOfFrames") or 1) == 1:
            expected = expected[None]
        instance = instances_of(metadata(mi, datastore_id, image_set_id))[str(source.SOPInstanceUID)]
        assert len(instance["ImageFrames"]) == len(expected)
        for entry, pixels in zip(instance["ImageFrames"], expected, strict=True):
            response = mi.get_image_frame(
                datastoreId=datastore_id, imageSetId=image_set_id, imageFrameInformation={"imageFrameId": entry["ID"]}
            )
            body = response["imageFrameBlob"].read()
            assert int(response["ResponseMetadata"]["HTTPHeaders"]["content-length"]) == len(body)
            decoded = openjpeg_decode(io.BytesIO(body), 2)
            np.testing.assert_array_equal(decoded, pixels)
            full = max(entry["PixelDataChecksumFromBaseToFullResolution"], key=lambda level: level["Width"])
            assert zlib.crc32(decoded) == full["Checksum"]
            assert (entry["MinPixelValue"], entry["MaxPixelValue"]) == (pixels.min(), pixels.max())


def test_unknown_frame_is_not_found(mi: Any, imported: dict[str, Any]) -> None:
    image_set_id = imported["by_file"]["in/ct/ct-0001.dcm"]
    with pytest.raises(ClientError) as exc_info:
        mi.get_image_frame(
            datastoreId=imported["datastore_id"],
            imageSetId=image_set_id,
            imageFrameInformation={"imageFrameId": "a" * 32},
        )
    assert error_of(exc_info) == ("ResourceNotFoundException", 404)


def test_frame_over_plain_http_has_the_model_content_type(mi: Any, imported: dict[str, Any], endpoint: Any) -> None:
    """The raw wire: POST body {"imageFrameId": ...} as the OHIF plugin and the batch tool send it."""
    datastore_id = imported["datastore_id"]
    image_set_id = imported["by_file"]["in/ct/ct-0001.dcm"]
    frame_id = next(iter(instances_of(metadata(mi, datastore_id, image_set_id)).values()))["ImageFrames"][0]["ID"]
    response = urllib3.request(
        "POST",
        f"{endpoint.url}/datastore/{datastore_id}/imageSet/{image_set_id}/getImageFrame",
        body=json.dumps({"imageFrameId": frame_id}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/jph"
    assert response.data[4:8] == b"jP  "


def test_image_sets_block_data_store_deletion_and_take_tags(mi: Any, imported: dict[str, Any]) -> None:
    datastore_id = imported["datastore_id"]
    image_set_id = imported["by_file"]["in/ct/ct-0001.dcm"]
    with pytest.raises(ClientError) as exc_info:
        mi.delete_datastore(datastoreId=datastore_id)
    assert error_of(exc_info) == ("ConflictException", 409)
    assert "3 image set" in exc_info.value.response["Error"]["Message"]
    arn = mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetArn"]
    mi.tag_resource(resourceArn=arn, tags={"Team": "Radiology"})
    assert mi.list_tags_for_resource(resourceArn=arn)["tags"] == {"Team": "Radiology"}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("image/jph", None),
        ("image/*;q=0.5, application/json", None),
        ("*/*", None),
        ("image/jpeg, image/j2c", ("NotAcceptableException", 406)),
        ("image/jph;q=0, */*", ("NotAcceptableException", 406)),
        ("jph", ("BadRequestException", 400)),
        ("image/jph;q=2", ("BadRequestException", 400)),
    ],
)
def test_an_accept_header_that_does_not_admit_the_stored_type_is_refused(
    mi: Any, imported: dict[str, Any], accept: str, expected: tuple[str, int] | None
) -> None:
    """boto3 sends no Accept header; one added by a client's own hook is honoured (docs/stored-syntaxes.md)."""
    datastore_id = imported["datastore_id"]
    image_set_id = imported["by_file"]["in/ct/ct-0001.dcm"]
    frame_id = next(iter(instances_of(metadata(mi, datastore_id, image_set_id)).values()))["ImageFrames"][0]["ID"]

    def add_accept(request: Any, **_: Any) -> None:
        request.headers["Accept"] = accept

    mi.meta.events.register("before-sign.medical-imaging.GetImageFrame", add_accept)
    try:
        call = lambda: mi.get_image_frame(  # noqa: E731
            datastoreId=datastore_id, imageSetId=image_set_id, imageFrameInformation={"imageFrameId": frame_id}
        )
        if expected is None:
            response = call()
            assert response["contentType"] == "image/jph" and response["imageFrameBlob"].read()[4:8] == b"jP  "
        else:
            with pytest.raises(ClientError) as exc_info:
                call()
            assert error_of(exc_info) == expected
            assert "image/jph" in exc_info.value.response["Error"]["Message"] or expected[0] == "BadRequestException"
    finally:
        mi.meta.events.unregister("before-sign.medical-imaging.GetImageFrame", add_accept)
