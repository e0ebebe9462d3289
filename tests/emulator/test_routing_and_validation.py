"""Routing on the raw path and model-driven input validation, over HTTP.

boto3 validates client-side, so these send with `parameter_validation=False` or as raw signed requests.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ahi.emulator.handlers import HANDLERS
from ahi.emulator.protocol.serializer import BlobStream

DATASTORE_ID = "0" * 32
IMAGE_SET_ID = "1" * 32
UNKNOWN_ARN = f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{'f' * 32}"


@pytest.fixture
def loose(make_client: Callable[..., Any]) -> Any:
    """A medical-imaging client that sends whatever it is given."""
    return make_client("medical-imaging", config=Config(parameter_validation=False))


def message_of(call: Callable[[], Any], code: str = "ValidationException", status: int = 400) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    return str(response["Error"]["Message"])


def encoded(arn: str) -> str:
    return arn.replace(":", "%3A").replace("/", "%2F")


def test_pattern_violation_uses_the_aws_wording(loose: Any) -> None:
    assert message_of(lambda: loose.get_datastore(datastoreId="x")) == (
        "1 validation error detected: Value 'x' at 'datastoreId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [0-9a-z]{32}"
    )


def test_length_enum_and_range_violations_are_all_listed(loose: Any) -> None:
    message = message_of(
        lambda: loose.create_datastore(datastoreName="n" * 257, clientToken="t", losslessStorageFormat="PNG")
    )
    assert message.startswith("2 validation errors detected: ")
    assert "at 'datastoreName' failed to satisfy constraint: Member must have length less than or equal to 256" in message
    assert (
        "Value 'PNG' at 'losslessStorageFormat' failed to satisfy constraint: "
        "Member must satisfy enum value set: [HTJ2K, JPEG_2000_LOSSLESS]" in message
    )
    assert "Member must have value greater than or equal to 1" in message_of(lambda: loose.list_datastores(maxResults=0))
    assert "Member must have value less than or equal to 50" in message_of(lambda: loose.list_datastores(maxResults=51))
    assert "enum value set" in message_of(lambda: loose.list_datastores(datastoreStatus="SLEEPING"))


def test_required_member_missing_is_not_null(raw_request: Callable[..., Any]) -> None:
    response = raw_request("POST", "/datastore", b"{}")
    assert (response.status, response.error_type) == (400, "ValidationException")
    assert response.json["message"] == (
        "1 validation error detected: Value null at 'clientToken' failed to satisfy constraint: Member must not be null"
    )


def test_sensitive_values_are_not_echoed(loose: Any) -> None:
    message = message_of(
        lambda: loose.start_dicom_import_job(
            datastoreId=DATASTORE_ID,
            dataAccessRoleArn="arn:aws:iam::123456789012:role/ImportRole",
            clientToken="token-1",
            inputS3Uri="s3://input-bucket/in/",
            outputS3Uri="s3://output-bucket/out/",
            importConfiguration={
                "dicomJsonMetadataImportConfiguration": {
                    "dicomMetadataMappings": [{"studyInstanceUID": "PATIENT-SECRET", "metadataFilePath": "a.json"}]
                }
            },
        )
    )
    where = "importConfiguration.dicomJsonMetadataImportConfiguration.dicomMetadataMappings.1.member.studyInstanceUID"
    assert f"Value at '{where}' failed to satisfy constraint: Member must satisfy regular expression pattern" in message
    assert "PATIENT-SECRET" not in message


def test_union_needs_exactly_one_member(loose: Any) -> None:
    message = message_of(
        lambda: loose.search_image_sets(
            datastoreId=DATASTORE_ID,
            searchCriteria={"filters": [{"operator": "EQUAL", "values": [{"DICOMPatientId": "p", "DICOMStudyId": "s"}]}]},
        )
    )
    assert "at 'searchCriteria.filters.1.member.values.1.member'" in message
    assert "exactly one of" in message


def test_blob_length_and_list_items_are_checked(loose: Any) -> None:
    message = message_of(
        lambda: loose.update_image_set_metadata(
            datastoreId=DATASTORE_ID,
            imageSetId=IMAGE_SET_ID,
            latestVersionId="1",
            updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": b""}},
        )
    )
    assert "at 'updateImageSetMetadataUpdates.DICOMUpdates.updatableAttributes'" in message
    assert "length greater than or equal to 1" in message
    tag_message = message_of(lambda: loose.untag_resource(resourceArn=UNKNOWN_ARN, tagKeys=["ok", "aws:reserved"]))
    assert "Value 'aws:reserved' at 'tagKeys.2.member' failed to satisfy constraint" in tag_message


def test_map_keys_and_values_use_the_map_wording(loose: Any) -> None:
    message = message_of(lambda: loose.tag_resource(resourceArn=UNKNOWN_ARN, tags={"aws:owner": "v" * 257}))
    assert "Map keys must satisfy constraint: [Member must satisfy regular expression pattern" in message
    assert "Map value must satisfy constraint: [Member must have length less than or equal to 256]" in message


def test_unknown_ids_flow_through_to_the_handler(mi: Any) -> None:
    assert "not" in message_of(lambda: mi.get_datastore(datastoreId="f" * 32), "ResourceNotFoundException", 404).lower()
    message_of(lambda: mi.list_tags_for_resource(resourceArn=UNKNOWN_ARN), "ResourceNotFoundException", 404)


def test_encoded_arn_is_one_label_and_a_malformed_arn_is_a_validation_error(raw_request: Callable[..., Any]) -> None:
    response = raw_request("GET", "/tags/" + encoded(UNKNOWN_ARN))
    assert (response.status, response.error_type) == (404, "ResourceNotFoundException")
    bad = raw_request("GET", "/tags/" + encoded("arn:aws:s3:::bucket/key"))
    assert (bad.status, bad.error_type) == (400, "ValidationException")
    assert "at 'resourceArn'" in bad.json["message"]


def test_malformed_json_is_a_400_serialization_error(raw_request: Callable[..., Any]) -> None:
    for body in (b'{"clientToken": ', b"[1, 2]", b"\xff\xfe"):
        response = raw_request("POST", "/datastore", body)
        assert (response.status, response.error_type) == (400, "SerializationException"), body
        assert response.json["message"]


def test_wrong_json_type_names_the_member(raw_request: Callable[..., Any]) -> None:
    response = raw_request("POST", "/datastore", json.dumps({"clientToken": 5}).encode())
    assert (response.status, response.error_type) == (400, "SerializationException")
    assert "clientToken" in response.json["message"]


def test_bad_query_scalars_are_400(raw_request: Callable[..., Any]) -> None:
    response = raw_request("GET", "/datastore?maxResults=lots")
    assert (response.status, response.error_type) == (400, "SerializationException")
    assert "maxResults" in response.json["message"]
    path = f"/datastore/{DATASTORE_ID}/imageSet/{IMAGE_SET_ID}/copyImageSet?force=maybe"
    flag = raw_request("POST", path, b'{"sourceImageSet": {"latestVersionId": "1"}}')
    assert (flag.status, flag.error_type) == (400, "SerializationException")
    assert "force" in flag.json["message"]


def test_unknown_route_and_method_are_json_404(raw_request: Callable[..., Any]) -> None:
    for method, path in (("GET", "/nowhere"), ("PUT", "/datastore"), ("PATCH", f"/datastore/{DATASTORE_ID}")):
        response = raw_request(method, path)
        assert (response.status, response.error_type) == (404, "UnknownOperationException"), (method, path)
        assert response.headers["content-type"] == "application/json"
        assert response.json["message"]


def test_trailing_slash_is_stripped_and_request_id_is_always_sent(raw_request: Callable[..., Any]) -> None:
    ok = raw_request("GET", "/datastore/")
    assert ok.status == 200 and ok.json == {"datastoreSummaries": []}
    assert ok.headers["x-amzn-requestid"]
    failed = raw_request("GET", "/datastore/x")
    assert failed.status == 400 and failed.headers["x-amzn-requestid"]
    assert failed.headers["x-amzn-requestid"] != ok.headers["x-amzn-requestid"]


def test_unknown_body_members_are_ignored(mi: Any, raw_request: Callable[..., Any]) -> None:
    response = raw_request("POST", "/datastore", json.dumps({"clientToken": "t-extra", "surprise": 1}).encode())
    assert response.status == 200
    assert mi.get_datastore(datastoreId=response.json["datastoreId"])["datastoreProperties"]["datastoreId"]


def test_streaming_payloads_reach_boto3_intact(mi: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Gzip metadata with an exact Content-Length from a BlobStream, and a chunked frame of unknown length."""
    document = json.dumps({"SchemaVersion": "1.1", "Study": {}}).encode()
    compressed = gzip.compress(document)
    frame = bytes(range(256)) * 4096  # 1 MiB
    seen: dict[str, Any] = {}

    def metadata(context: Any, params: dict[str, Any]) -> dict[str, Any]:
        seen.update(params)
        chunks = [compressed[:10], compressed[10:]]
        return {"imageSetMetadataBlob": BlobStream(chunks, len(compressed)), "contentType": "application/json", "contentEncoding": "gzip"}

    def image_frame(context: Any, params: dict[str, Any]) -> dict[str, Any]:
        seen.update(params)
        return {"imageFrameBlob": BlobStream(frame[i : i + 65536] for i in range(0, len(frame), 65536)), "contentType": "application/octet-stream"}

    monkeypatch.setitem(HANDLERS, "GetImageSetMetadata", metadata)
    monkeypatch.setitem(HANDLERS, "GetImageFrame", image_frame)
    got = mi.get_image_set_metadata(datastoreId=DATASTORE_ID, imageSetId=IMAGE_SET_ID, versionId="3")
    assert seen["versionId"] == "3"
    assert (got["contentType"], got["contentEncoding"]) == ("application/json", "gzip")
    assert got["ResponseMetadata"]["HTTPHeaders"]["content-length"] == str(len(compressed))
    assert gzip.decompress(got["imageSetMetadataBlob"].read()) == document
    pixels = mi.get_image_frame(datastoreId=DATASTORE_ID, imageSetId=IMAGE_SET_ID, imageFrameInformation={"imageFrameId": "2" * 32})
    assert seen["imageFrameInformation"] == {"imageFrameId": "2" * 32}
    assert pixels["contentType"] == "application/octet-stream"
    assert pixels["imageFrameBlob"].read() == frame
