"""STOW-RS against the local endpoint: dicomweb-client's store_instances, multipart and single-file bodies, failures.

One endpoint (signatures verified) for the module; each test stores instances of a study of its own.
"""

from __future__ import annotations

import http.client
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pydicom
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from local_endpoints import until
from raw_http import ACCESS_KEY, REGION, SECRET_KEY, send_raw
from world import DicomwebWorld, dicomweb_world

from ahi.emulator.demo.phantoms import Subject, ct_series

STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
CANNOT_UNDERSTAND = 0xC000
DOES_NOT_MATCH = 0xA900
PIXEL_DATA_PADDING = 45331


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DicomwebWorld]:
    with dicomweb_world(tmp_path_factory.mktemp("stow")) as built:
        yield built


def _files(study: str, count: int = 1, size: int = 16) -> list[bytes]:
    subject = Subject(patient_id=f"STOW-{study}", study_key=study)
    return [data for _, data in ct_series(count, size, subject=subject, series_key="stow")]


def _dataset(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(data))


def _multipart(parts: list[tuple[str, bytes]], boundary: str = "stow-test-boundary") -> tuple[bytes, str]:
    body = b"".join(
        f"--{boundary}\r\nContent-Type: {media_type}\r\n\r\n".encode() + data + b"\r\n" for media_type, data in parts
    )
    return body + f"--{boundary}--\r\n".encode(), f'multipart/related; type="application/dicom"; boundary={boundary}'


def _image_sets(world: DicomwebWorld, study_uid: str) -> list[dict[str, Any]]:
    criteria = {"filters": [{"values": [{"DICOMStudyInstanceUID": study_uid}], "operator": "EQUAL"}]}
    found = world.mi.search_image_sets(datastoreId=world.datastore_id, searchCriteria=criteria)
    return found["imageSetsMetadataSummaries"]


def _references(response: Any) -> list[str]:
    return [str(item.ReferencedSOPInstanceUID) for item in response.get("ReferencedSOPSequence", [])]


def test_store_instances_stores_one_file_as_a_primary_image_set(world: DicomwebWorld) -> None:
    (data,) = _files("single")
    source = _dataset(data)
    response = world.client.store_instances([source])
    (stored,) = response.ReferencedSOPSequence
    assert (stored.ReferencedSOPClassUID, stored.ReferencedSOPInstanceUID) == (source.SOPClassUID, source.SOPInstanceUID)
    # dicomweb-client sends its Host without the port; the URLs name the port the request came in on.
    base = world.base_url
    assert stored.RetrieveURL == (
        f"{base}/studies/{source.StudyInstanceUID}/series/{source.SeriesInstanceUID}/instances/{source.SOPInstanceUID}"
    )
    assert response.RetrieveURL == f"{base}/studies/{source.StudyInstanceUID}"
    assert "FailedSOPSequence" not in response
    (image_set,) = _image_sets(world, str(source.StudyInstanceUID))
    assert image_set["isPrimary"] is True


def test_several_instances_of_a_series_become_one_image_set_and_a_repeat_is_kept_non_primary(
    world: DicomwebWorld,
) -> None:
    files = _files("several", count=3)
    datasets = [_dataset(data) for data in files]
    response = world.client.store_instances(datasets)
    assert sorted(_references(response)) == sorted(str(ds.SOPInstanceUID) for ds in datasets)
    study_uid = str(datasets[0].StudyInstanceUID)
    (primary,) = _image_sets(world, study_uid)
    assert primary["isPrimary"] is True
    again = world.client.store_instances(datasets[:1])  # already in the primary image set: the import's rule
    (stored,) = again.ReferencedSOPSequence
    image_sets = _image_sets(world, study_uid)
    (copy,) = [item for item in image_sets if not item["isPrimary"]]
    assert stored.RetrieveURL.endswith(f"?imageSetId={copy['imageSetId']}")


def test_a_part_that_is_not_dicom_fails_alone_with_409(world: DicomwebWorld) -> None:
    (good,) = _files("partial")
    body, content_type = _multipart([("application/dicom", good), ("application/dicom", b"not a DICOM file")])
    response = world.session().post(
        f"{world.base_url}/studies", data=body, headers={"Content-Type": content_type, "Accept": "application/dicom+json"}
    )
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/dicom+json"
    result = pydicom.Dataset.from_json(response.json())
    assert _references(result) == [str(_dataset(good).SOPInstanceUID)]
    (failed,) = result.FailedSOPSequence
    assert failed.FailureReason == CANNOT_UNDERSTAND


def test_a_part_of_another_media_type_fails_and_dicomweb_client_sees_the_409(world: DicomwebWorld) -> None:
    (good,) = _files("other-type")
    body, content_type = _multipart([("application/octet-stream", good)])
    response = world.session().post(f"{world.base_url}/studies", data=body, headers={"Content-Type": content_type})
    assert response.status_code == 409
    (failed,) = pydicom.Dataset.from_json(response.json()).FailedSOPSequence
    assert failed.FailureReason == CANNOT_UNDERSTAND
    assert _image_sets(world, str(_dataset(good).StudyInstanceUID)) == []


def test_store_dicom_study_refuses_an_instance_of_another_study(world: DicomwebWorld) -> None:
    (mine,) = _files("target")
    (other,) = _files("elsewhere")
    target = str(_dataset(mine).StudyInstanceUID)
    with pytest.raises(requests.HTTPError) as raised:
        world.client.store_instances([_dataset(mine), _dataset(other)], study_instance_uid=target)
    assert raised.value.response.status_code == 409
    result = pydicom.Dataset.from_json(raised.value.response.json())
    assert _references(result) == [str(_dataset(mine).SOPInstanceUID)]
    (failed,) = result.FailedSOPSequence
    assert (failed.ReferencedSOPInstanceUID, failed.FailureReason) == (_dataset(other).SOPInstanceUID, DOES_NOT_MATCH)
    assert urlsplit(result.RetrieveURL).path == f"/datastore/{world.datastore_id}/studies/{target}"
    assert _image_sets(world, str(_dataset(other).StudyInstanceUID)) == []


def test_a_single_file_signed_as_a_stream_is_stored_as_the_guides_curl_sends_it(world: DicomwebWorld) -> None:
    (data,) = _files("curl", size=256)  # 128 KiB: over what a cloud-native call's body may be
    headers = {
        "Content-Type": "application/dicom",
        "Accept": "application/dicom+json",
        "x-amz-content-sha256": STREAMING,
        "x-amz-decoded-content-length": str(len(data)),
    }
    response = send_raw(world.endpoint, "POST", f"/datastore/{world.datastore_id}/studies", data, headers)
    assert response.status == 200, response.body
    assert _references(pydicom.Dataset.from_json(response.json)) == [str(_dataset(data).SOPInstanceUID)]


def test_a_stream_marker_does_not_unsign_other_calls(world: DicomwebWorld) -> None:
    """Outside a store, the body's hash is still what must be signed."""
    headers = {"x-amz-content-sha256": STREAMING}
    response = send_raw(world.endpoint, "POST", "/datastore", b'{"clientToken": "x"}', headers)
    assert response.status == 403
    assert response.error_type == "InvalidSignatureException"


def test_a_body_declared_over_one_gigabyte_is_refused_before_it_is_read(world: DicomwebWorld) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", world.endpoint.port, timeout=10)
    try:
        connection.putrequest("POST", f"/datastore/{world.datastore_id}/studies", skip_accept_encoding=True)
        connection.putheader("Content-Type", "application/dicom")
        connection.putheader("Content-Length", str(1024**3 + 1))
        connection.endheaders()  # not one byte of the body is sent: an answer proves it was not awaited
        response = connection.getresponse()
        assert response.status == 413
        assert response.getheader("x-amzn-ErrorType") == "RequestEntityTooLargeException"
    finally:
        connection.close()


def test_a_body_that_is_neither_dicom_nor_multipart_is_415(world: DicomwebWorld) -> None:
    response = world.session().post(
        f"{world.base_url}/studies", data=b"{}", headers={"Content-Type": "application/dicom+json"}
    )
    assert response.status_code == 415


def test_frames_of_instances_not_stored_are_not_left_behind(world: DicomwebWorld) -> None:
    (mine,) = _files("kept")
    (other,) = _files("dropped")  # processed (its frame staged), then refused as another study's
    body, content_type = _multipart([("application/dicom", mine), ("application/dicom", other)])
    target = _dataset(mine).StudyInstanceUID
    response = world.session().post(f"{world.base_url}/studies/{target}", data=body, headers={"Content-Type": content_type})
    assert response.status_code == 409
    runtime = world.endpoint.runtime
    assert runtime is not None
    with runtime.store.read() as conn:
        live = {row[0] for row in conn.execute("SELECT path FROM image_frames WHERE path LIKE 'jobs/stow-%'")}
    on_disk = {
        str(path.relative_to(runtime.frames.root)) for path in (runtime.frames.root / "jobs").glob("stow-*/*")
    }
    assert on_disk == live and live


def test_a_multipart_body_without_a_type_parameter_is_read(world: DicomwebWorld) -> None:
    (data,) = _files("untyped")
    body, _ = _multipart([("application/dicom", data)])
    response = world.session().post(
        f"{world.base_url}/studies", data=body, headers={"Content-Type": "multipart/related; boundary=stow-test-boundary"}
    )
    assert response.status_code == 200, response.text
    assert _references(pydicom.Dataset.from_json(response.json())) == [str(_dataset(data).SOPInstanceUID)]


def test_a_multipart_body_without_parts_is_400(world: DicomwebWorld) -> None:
    body, content_type = _multipart([])
    response = world.session().post(f"{world.base_url}/studies", data=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "ValidationException"


def test_an_import_caveat_is_the_stored_instance_s_warning_reason(world: DicomwebWorld) -> None:
    (data,) = _files("padded")
    padded = _dataset(data)
    padded.PixelData = padded.PixelData + b"\0" * 4  # the import keeps it, with a PixelDataPadding caveat
    response = world.client.store_instances([padded])
    (stored,) = response.ReferencedSOPSequence
    assert stored.WarningReason == PIXEL_DATA_PADDING


def test_a_chunked_body_signed_as_a_stream_is_read_to_its_end(world: DicomwebWorld) -> None:
    """No Content-Length: the body comes in chunks (as dicomweb-client sends anything over 1 MB), here 200 KiB."""
    files = _files("chunked", count=3, size=256)
    body, content_type = _multipart([("application/dicom", data) for data in files])
    path = f"/datastore/{world.datastore_id}/studies"
    host = f"127.0.0.1:{world.endpoint.port}"
    headers = {"Host": host, "Content-Type": content_type, "x-amz-content-sha256": STREAMING, "Transfer-Encoding": "chunked"}
    signed = AWSRequest(method="POST", url=f"http://{host}{path}", headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "medical-imaging", REGION).add_auth(signed)
    connection = http.client.HTTPConnection("127.0.0.1", world.endpoint.port, timeout=30)
    try:
        connection.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
        for name, value in signed.headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        for start in range(0, len(body), 64 * 1024):
            chunk = body[start:start + 64 * 1024]
            connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        result = response.read()
    finally:
        connection.close()
    assert response.status == 200, result
    assert len(_references(pydicom.Dataset.from_json(result))) == 3


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"--x\r\nContent-Type: application/dicom\r\n\r\nDICM", "multipart/related; boundary=x", 400),  # never closed
        (b"--x\r\n" + b"A" * 40_000, "multipart/related; boundary=x", 400),  # part headers that never end
        (b"no boundary anywhere", "multipart/related; boundary=x", 400),
        (b"--x--\r\n", "multipart/related; boundary=", 400),
        (b"--x\r\n\r\nDICM\r\n--x--\r\n", "multipart/related; boundary*=UTF-8''%E2%82%AC", 400),
        (b"", "application/dicom", 409),  # an empty file: a failed instance, not a malformed request
    ],
)
def test_malformed_bodies_are_the_client_s_fault(world: DicomwebWorld, body: bytes, content_type: str, status: int) -> None:
    response = send_raw(world.endpoint, "POST", f"/datastore/{world.datastore_id}/studies", body, {"Content-Type": content_type})
    assert response.status == status, response.body


def test_a_store_sends_image_set_created_to_eventbridge(world: DicomwebWorld) -> None:
    """docs/events.md: an image set a DICOMweb store writes is announced as an import's is."""
    sqs, events = world.client_for("sqs"), world.client_for("events")
    queue_url = sqs.create_queue(QueueName="stow-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="stow", EventPattern=json.dumps({"source": ["aws.medical-imaging"]}))
    events.put_targets(Rule="stow", Targets=[{"Id": "queue", "Arn": queue_arn}])
    (data,) = _files("evented")
    world.client.store_instances([_dataset(data)])
    (image_set,) = _image_sets(world, str(_dataset(data).StudyInstanceUID))

    def created() -> dict[str, Any] | None:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            event = json.loads(message["Body"])
            if event["detail"].get("imagesetId") == image_set["imageSetId"]:
                return event
        return None

    event = until(created, "the Image Set Created event")
    assert event["detail-type"] == "Image Set Created"
    assert (event["detail"]["datastoreId"], event["detail"]["isPrimary"]) == (world.datastore_id, True)
