"""WADO-RS against the local endpoint over HTTP with dicomweb-client, every request SigV4-signed and verified
(docs/dicomweb.md#wado-rs): instances, metadata, frames and bulk data of a small imported world."""

from __future__ import annotations

import gzip
import io
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openjpeg
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import generate_frames
import requests
from raw_http import ACCESS_KEY, REGION
from signing import signed_session
from world import DicomwebWorld, Instance, dicomweb_world

from ahi.emulator.demo.phantoms import Subject, ct_series, multiframe_cine
from ahi.emulator.store import imagesets

from local_endpoints import until

ELE = "1.2.840.10008.1.2.1"
HTJ2K_RPCL = "1.2.840.10008.1.2.4.202"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
LOSSLESS = ("ct-1", "cine", "us")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DicomwebWorld]:
    with dicomweb_world(tmp_path_factory.mktemp("dicomweb")) as built:
        yield built


def instance_path(found: Instance, suffix: str = "") -> str:
    return f"/studies/{found.study_uid}/series/{found.series_uid}/instances/{found.sop_uid}{suffix}"


def error_of(response: Any) -> tuple[int, str | None, str]:
    return response.status_code, response.headers.get("x-amzn-ErrorType"), response.json()["message"]


def source_frames(found: Instance) -> np.ndarray:
    """The source file's pixels as (frames, rows, columns[, samples])."""
    pixels = found.dataset().pixel_array
    return pixels if int(found.dataset().get("NumberOfFrames") or 1) > 1 else pixels[np.newaxis]


@pytest.mark.parametrize("name", LOSSLESS)
def test_retrieve_instance_is_a_part10_file_with_the_source_pixels(world: DicomwebWorld, name: str) -> None:
    found = world.instances[name]
    # dicomweb-client's default: multipart/related; type="application/dicom"; transfer-syntax=* (as stored).
    retrieved = world.client.retrieve_instance(found.study_uid, found.series_uid, found.sop_uid)
    source = found.dataset()
    assert retrieved.file_meta.TransferSyntaxUID == HTJ2K_RPCL
    assert retrieved.SOPInstanceUID == found.sop_uid and retrieved.PatientName == source.PatientName
    assert np.array_equal(retrieved.pixel_array, source.pixel_array)

    single = world.get(instance_path(found), headers={"Accept": "application/dicom"})
    assert single.status_code == 200
    assert single.headers["Content-Type"] == f"application/dicom; transfer-syntax={ELE}"
    native = pydicom.dcmread(io.BytesIO(single.content))
    assert native.file_meta.TransferSyntaxUID == ELE
    assert native.file_meta.MediaStorageSOPInstanceUID == found.sop_uid
    assert np.array_equal(native.pixel_array, source.pixel_array)
    assert [native[tag].value for tag in ("Rows", "Columns", "BitsAllocated", "PixelRepresentation")] == [
        source[tag].value for tag in ("Rows", "Columns", "BitsAllocated", "PixelRepresentation")
    ]


def test_htj2k_on_request_and_406_for_a_syntax_that_cannot_be_given(world: DicomwebWorld) -> None:
    found = world.instances["us"]
    htj2k = world.get(instance_path(found), headers={"Accept": f"application/dicom; transfer-syntax={HTJ2K_RPCL}"})
    assert htj2k.status_code == 200
    dataset = pydicom.dcmread(io.BytesIO(htj2k.content))
    assert dataset.file_meta.TransferSyntaxUID == HTJ2K_RPCL
    assert np.array_equal(dataset.pixel_array, found.dataset().pixel_array)

    for accept in (
        "application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50",  # lossy JPEG from lossless frames
        "application/dicom; transfer-syntax=1.2.840.10008.1.2",  # implicit VR: not offered
        "image/png",
        "application/dicom; transfer-syntax=1.2.840.10008.1.2.1; profile=x",  # an unknown parameter: strict
    ):
        refused = world.get(instance_path(found), headers={"Accept": accept})
        status, code, _ = error_of(refused)
        assert (status, code) == (406, "NotAcceptableException"), accept
    # A list is tried in order of weight: the acceptable range wins.
    listed = world.get(instance_path(found), headers={"Accept": "image/png, application/dicom;q=0.5"})
    assert listed.status_code == 200 and listed.headers["Content-Type"].endswith(ELE)


def test_a_jpeg_2000_lossless_data_store_serves_its_own_syntax_and_htj2k(world: DicomwebWorld) -> None:
    subject = Subject(patient_id="J2K-1", study_key="j2k")
    datastore_id, instances = world.datastore_with(
        "jpeg2000", {"j2k": ct_series(1, 32, subject=subject)[0][1]}, losslessStorageFormat="JPEG_2000_LOSSLESS"
    )
    found = instances["j2k"]
    url = f"{world.endpoint.url}/datastore/{datastore_id}{instance_path(found)}"
    expected = found.dataset().pixel_array
    with world.session() as session:
        for syntax in (J2K_LOSSLESS, HTJ2K_RPCL, ELE):
            answer = session.get(url, headers={"Accept": f"application/dicom; transfer-syntax={syntax}"}, timeout=30)
            dataset = pydicom.dcmread(io.BytesIO(answer.content))
            assert dataset.file_meta.TransferSyntaxUID == syntax
            assert np.array_equal(dataset.pixel_array, expected), syntax
        for part_type, syntax in (("image/jp2", J2K_LOSSLESS), ("image/jphc", HTJ2K_RPCL)):
            answer = session.get(f"{url}/frames/1", headers={"Accept": f"multipart/related; type={part_type}"}, timeout=30)
            [(headers, frame)] = multipart_parts(answer)
            assert headers["Content-Type"] == f"{part_type}; transfer-syntax={syntax}"
            assert np.array_equal(openjpeg.decode(frame), expected), part_type


def test_lossy_frames_are_kept_decoded_or_as_stored_but_never_made_lossless(world: DicomwebWorld) -> None:
    data = Path(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm")).read_bytes()  # JPEG baseline, YBR_FULL
    datastore_id, instances = world.datastore_with("lossy", {"jpeg": data})
    found = instances["jpeg"]
    url = f"{world.endpoint.url}/datastore/{datastore_id}{instance_path(found)}"
    source = found.dataset()
    with world.session() as session:
        native = pydicom.dcmread(io.BytesIO(session.get(url, headers={"Accept": "application/dicom"}, timeout=30).content))
        as_stored = session.get(url, headers={"Accept": "application/dicom; transfer-syntax=*"}, timeout=30)
        refused = session.get(url, headers={"Accept": f"application/dicom; transfer-syntax={HTJ2K_RPCL}"}, timeout=30)
    # Decoded, the frame is RGB whatever the JPEG's colour space (as pydicom decodes the source too).
    assert native.PhotometricInterpretation == "RGB" and native.PlanarConfiguration == 0
    assert np.abs(native.pixel_array.astype(int) - source.pixel_array.astype(int)).max() <= 2
    stored = pydicom.dcmread(io.BytesIO(as_stored.content))
    assert stored.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    assert stored.PhotometricInterpretation == source.PhotometricInterpretation
    [fragment] = list(generate_frames(stored.PixelData, number_of_frames=1))
    [original] = list(generate_frames(source.PixelData, number_of_frames=1))
    assert fragment.removesuffix(b"\x00") == original.removesuffix(b"\x00")  # odd fragments are padded
    assert error_of(refused)[:2] == (406, "NotAcceptableException")


def multipart_parts(response: requests.Response) -> list[tuple[dict[str, str], bytes]]:
    """(headers, body) of each part of a multipart/related response."""
    boundary = response.headers["Content-Type"].split("boundary=")[1].split(";")[0].strip('"').encode()
    parts = []
    for chunk in response.content.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        lines = [line.decode("latin-1").split(": ", 1) for line in head.split(b"\r\n")]
        parts.append(({name: value for name, value in lines}, body.removesuffix(b"\r\n")))
    return parts


def test_instance_metadata_in_the_dicom_json_model(world: DicomwebWorld) -> None:
    found = world.instances["ct-1"]
    metadata = world.client.retrieve_instance_metadata(found.study_uid, found.series_uid, found.sop_uid)
    assert metadata["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": "Phantom^Shepp^Logan"}]}
    assert metadata["00080018"] == {"vr": "UI", "Value": [found.sop_uid]}
    assert metadata["00200013"] == {"vr": "IS", "Value": [1]}  # IS as a JSON number
    assert metadata["00281052"] == {"vr": "DS", "Value": [-1024]}
    assert metadata["00280100"] == {"vr": "US", "Value": [16]}
    assert metadata["00083002"] == {"vr": "UI", "Value": [HTJ2K_RPCL]}  # AvailableTransferSyntaxUID
    assert not any(tag.startswith("0002") for tag in metadata)
    dataset = pydicom.Dataset.from_json(json.dumps({k: v for k, v in metadata.items() if k != "7FE00010"}))
    assert dataset.SeriesInstanceUID == found.series_uid and dataset.Rows == 32

    # PixelData is bulk data: GetDICOMBulkdata serves it uncompressed.
    pixel_uri = metadata["7FE00010"]["BulkDataURI"]
    assert pixel_uri.startswith(f"{world.base_url}{instance_path(found)}/bulkdata/")
    [pixels] = list(world.client.retrieve_bulkdata(pixel_uri))
    assert pixels == found.dataset().PixelData
    single = world.get(pixel_uri.removeprefix(world.base_url), headers={"Accept": "application/octet-stream"})
    assert single.headers["Content-Type"] == "application/octet-stream" and single.content == pixels


def test_series_metadata_lists_each_instance(world: DicomwebWorld) -> None:
    ct = world.instances["ct-1"]
    series = world.client.retrieve_series_metadata(ct.study_uid, ct.series_uid)
    sops = {item["00080018"]["Value"][0] for item in series}
    assert sops == {world.instances[name].sop_uid for name in ("ct-1", "ct-2", "ct-3")}

    refused = world.get(f"/studies/{ct.study_uid}/series/{ct.series_uid}/metadata", headers={"Accept": "application/dicom"})
    assert error_of(refused)[:2] == (406, "NotAcceptableException")
    missing = world.get(f"/studies/{ct.study_uid}/series/1.2.3/metadata")
    assert error_of(missing)[:2] == (404, "ResourceNotFoundException")


def test_frames_uncompressed_and_as_stored(world: DicomwebWorld) -> None:
    cine = world.instances["cine"]
    expected = source_frames(cine)
    # dicomweb-client's default (type="*/*"): uncompressed, one part per frame, in the order asked.
    frames = world.client.retrieve_instance_frames(cine.study_uid, cine.series_uid, cine.sop_uid, [3, 1])
    assert [bytes(frame) for frame in frames] == [expected[2].tobytes(), expected[0].tobytes()]

    stored = world.client.retrieve_instance_frames(
        cine.study_uid, cine.series_uid, cine.sop_uid, [2], media_types=(("application/octet-stream", "*"),)
    )
    assert np.array_equal(openjpeg.decode(bytes(stored[0])), expected[1])

    raw = world.get(instance_path(cine, "/frames/1,2"), headers={"Accept": 'multipart/related; type="image/jphc"'})
    assert raw.status_code == 200
    assert raw.headers["Content-Type"].startswith('multipart/related; type="image/jphc"; boundary=')
    parts = multipart_parts(raw)
    assert [headers["Content-Type"] for headers, _ in parts] == [f"image/jphc; transfer-syntax={HTJ2K_RPCL}"] * 2
    assert parts[1][0]["Content-Location"] == f"{world.base_url}{instance_path(cine, '/frames/2')}"
    assert np.array_equal(openjpeg.decode(parts[1][1]), expected[1])


def test_frame_numbers_are_checked(world: DicomwebWorld) -> None:
    cine = world.instances["cine"]
    beyond = world.get(instance_path(cine, "/frames/1,4"))
    assert error_of(beyond)[:2] == (404, "ResourceNotFoundException")
    for frames in ("0", "1,1", "one", "1,,2"):
        malformed = world.get(instance_path(cine, f"/frames/{frames}"))
        status, code, message = error_of(malformed)
        assert (status, code) == (400, "ValidationException") and "frameList" in message, frames
    refused = world.get(instance_path(cine, "/frames/1"), headers={"Accept": "multipart/related; type=image/jpeg"})
    assert error_of(refused)[:2] == (406, "NotAcceptableException")


def test_a_frame_that_cannot_be_read_cuts_the_response_short_and_is_logged(
    world: DicomwebWorld, caplog: pytest.LogCaptureFixture
) -> None:
    subject = Subject(patient_id="CUT-1", study_key="cut")
    datastore_id, instances = world.datastore_with("cut", {"cine": multiframe_cine(subject=subject, frames=3, size=16)[0][1]})
    found = instances["cine"]
    blob = world.mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=found.image_set_id)["imageSetMetadataBlob"]
    block = json.loads(gzip.decompress(blob.read()))["Study"]["Series"][found.series_uid]["Instances"][found.sop_uid]
    runtime = world.endpoint.runtime
    assert runtime is not None
    with runtime.store.read() as conn:
        frame = imagesets.find_frame(conn, found.image_set_id, block["ImageFrames"][1]["ID"])
    assert frame is not None
    (runtime.frames.root / frame.path).unlink()
    with world.session() as session:
        answer = session.get(f"{world.endpoint.url}/datastore/{datastore_id}{instance_path(found, '/frames/1,2')}", timeout=30)
    boundary = answer.headers["Content-Type"].split("boundary=")[1]
    assert answer.status_code == 200 and answer.content.count(f"--{boundary}".encode()) == 1
    assert not answer.content.endswith(f"--{boundary}--\r\n".encode())  # no closing delimiter: the client sees the cut
    assert any("unexpected FileNotFoundError in GetDICOMInstanceFrames" in record.getMessage() for record in caplog.records)


def test_non_primary_instances_are_reachable_only_with_their_image_set(world: DicomwebWorld) -> None:
    renamed, ct = world.instances["renamed"], world.instances["ct-1"]
    assert not renamed.is_primary
    hidden = world.get(instance_path(renamed, "/metadata"))
    assert error_of(hidden)[:2] == (404, "ResourceNotFoundException")
    named = world.get(instance_path(renamed, "/metadata"), params={"imageSetId": renamed.image_set_id})
    assert named.status_code == 200 and named.json()[0]["00080018"]["Value"] == [renamed.sop_uid]
    retrieved = world.client.retrieve_instance(
        renamed.study_uid, renamed.series_uid, renamed.sop_uid, additional_params={"imageSetId": renamed.image_set_id}
    )
    assert retrieved.PatientName == "Phantom^Renamed"
    # An image set that does not hold the instance does not serve it; a malformed ID names the parameter.
    elsewhere = world.get(instance_path(ct), params={"imageSetId": renamed.image_set_id})
    assert error_of(elsewhere)[:2] == (404, "ResourceNotFoundException")
    status, code, message = error_of(world.get(instance_path(ct), params={"imageSetId": "not-an-id"}))
    assert (status, code) == (400, "ValidationException") and "imageSetId" in message


def test_an_instance_carries_its_image_sets_latest_metadata(world: DicomwebWorld) -> None:
    renamed = world.instances["renamed"]
    mi, datastore_id, image_set_id = world.mi, world.datastore_id, renamed.image_set_id
    version = mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["versionId"]
    patch = {"SchemaVersion": 1.1, "Study": {"DICOM": {"StudyDescription": "Updated over boto3"}}}
    mi.update_image_set_metadata(
        datastoreId=datastore_id,
        imageSetId=image_set_id,
        latestVersionId=version,
        updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": json.dumps(patch).encode()}},
    )
    until(
        lambda: mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetState"] == "ACTIVE",
        "the update to settle",
    )
    retrieved = world.client.retrieve_instance(
        renamed.study_uid, renamed.series_uid, renamed.sop_uid, additional_params={"imageSetId": image_set_id}
    )
    assert retrieved.StudyDescription == "Updated over boto3"
    assert np.array_equal(retrieved.pixel_array, renamed.dataset().pixel_array)


def test_a_retrieve_is_an_access_for_storage_tiers(world: DicomwebWorld) -> None:
    us = world.instances["us"]

    def tier() -> str:
        return str(world.mi.get_image_set(datastoreId=world.datastore_id, imageSetId=us.image_set_id)["storageTier"])

    clock(world, {"advanceSeconds": 31 * 86_400})
    try:
        assert tier() == "ARCHIVE_INSTANT_ACCESS"
        refused = world.get(instance_path(us, "/frames/1"), headers={"Accept": "multipart/related; type=image/jpeg"})
        assert refused.status_code == 406 and tier() == "ARCHIVE_INSTANT_ACCESS"  # only what is served is an access
        with world.session() as session:
            assert session.head(world.base_url + instance_path(us, "/frames/1"), timeout=30).status_code == 200
        assert tier() == "ARCHIVE_INSTANT_ACCESS"  # a HEAD sends no data: no access
        assert world.get(instance_path(us, "/frames/1")).status_code == 200
        assert tier() == "FREQUENT_ACCESS"
    finally:
        clock(world, {"offsetSeconds": 0})


def test_head_is_get_without_the_body(world: DicomwebWorld) -> None:
    found = world.instances["cine"]
    with world.session() as session:
        for suffix, accept in [
            ("", "application/dicom"),
            ("/metadata", "application/dicom+json"),
            ("/frames/2,3", "multipart/related; type=application/octet-stream"),
        ]:
            url = world.base_url + instance_path(found, suffix)
            got, head = (call(url, headers={"Accept": accept}, timeout=30) for call in (session.get, session.head))
            assert (head.status_code, head.content) == (200, b"") and got.status_code == 200 and got.content
            assert head.headers["Content-Type"].split("boundary=")[0] == got.headers["Content-Type"].split("boundary=")[0]
            assert head.headers.get("Content-Length") == got.headers.get("Content-Length")
        missing = session.head(world.base_url + instance_path(found, "/frames/9"), timeout=30)
        assert (missing.status_code, missing.headers["x-amzn-ErrorType"], missing.content) == (
            404, "ResourceNotFoundException", b""
        )
        store_only = session.head(f"{world.base_url}/studies/{found.study_uid}", timeout=30)
        assert (store_only.status_code, store_only.headers["x-amzn-ErrorType"]) == (404, "UnknownOperationException")


def clock(world: DicomwebWorld, body: dict[str, int]) -> None:
    request = urllib.request.Request(f"{world.endpoint.url}/_ahi/clock", data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def test_unsigned_and_missigned_requests_are_refused(world: DicomwebWorld) -> None:
    found = world.instances["ct-1"]
    unsigned = world.get(instance_path(found), sign=False)
    assert error_of(unsigned)[:2] == (403, "MissingAuthenticationTokenException")
    wrong = world.dicomweb(session=signed_session(ACCESS_KEY, "not-the-secret", REGION))
    with pytest.raises(requests.HTTPError) as refused:
        wrong.retrieve_instance_metadata(found.study_uid, found.series_uid, found.sop_uid)
    assert refused.value.response.status_code == 403
    assert refused.value.response.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


def test_unknown_data_store_and_paths(world: DicomwebWorld) -> None:
    found = world.instances["ct-1"]
    session = world.session()
    other = f"{world.endpoint.url}/datastore/{'0' * 32}{instance_path(found)}"
    assert error_of(session.get(other, timeout=30))[:2] == (404, "ResourceNotFoundException")
    posted = session.post(world.base_url + instance_path(found, "/metadata"), timeout=30)
    assert error_of(posted)[:2] == (404, "UnknownOperationException")
