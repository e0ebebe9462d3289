"""Security: signatures (beyond tests/emulator/test_sigv4.py), loopback binding, private state, no values in logs.

A's SigV4 tests cover a wrong secret, an unknown key, a missing signature, a tampered path or body,
an expired timestamp and presigned URLs; here: tampered queries, signed headers and methods, a future
timestamp, an incomplete Authorization header, and that a rejected request changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import logging
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from durability_workload import start_job
from durable_inputs import INPUT_BUCKET, INPUT_PREFIX, OUTPUT_BUCKET
from local_process import start_local, with_debug_logging, with_umask

from ahi.emulator.config import EndpointConfig
from ahi.emulator.demo.phantoms import Subject, ct_series
from ahi.emulator.server import LocalEndpoint
from ahi.services.session import AwsSession, ConnectionSettings

ACCESS_KEY, SECRET = "AKIDLOCALTEST", "local-test-secret"  # conftest's signing pair
DATASTORE_NAME = "signed"


@pytest.fixture
def verifying(endpoint_config: EndpointConfig) -> EndpointConfig:
    endpoint_config.verify_signatures = True
    endpoint_config.secrets = {ACCESS_KEY: SECRET}
    endpoint_config.max_clock_skew = 300
    return endpoint_config


@pytest.fixture
def verified(verifying: EndpointConfig, endpoint: LocalEndpoint) -> LocalEndpoint:
    return endpoint


def signed(endpoint: LocalEndpoint, method: str, path: str, body: bytes = b"", **headers: str) -> dict[str, str]:
    """The headers botocore's signer puts on exactly this request."""
    all_headers = {"Host": f"127.0.0.1:{endpoint.port}", **headers}
    if body:
        all_headers["Content-Type"] = "application/json"
    request = AWSRequest(method=method, url=f"http://127.0.0.1:{endpoint.port}{path}", data=body, headers=all_headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "medical-imaging", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def active_datastore(mi: Any) -> str:
    datastore_id = mi.create_datastore(datastoreName=DATASTORE_NAME, clientToken="signed-1")["datastoreId"]
    deadline = time.monotonic() + 10
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return datastore_id


# --- signatures ---------------------------------------------------------------------------------


def test_a_tampered_query_string_is_rejected(verified: LocalEndpoint, raw_request: Callable[..., Any]) -> None:
    headers = signed(verified, "GET", "/datastore?maxResults=5")
    assert raw_request("GET", "/datastore?maxResults=5", headers=headers, sign=False).status == 200
    response = raw_request("GET", "/datastore?maxResults=6", headers=headers, sign=False)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")


def test_a_tampered_signed_header_is_rejected(verified: LocalEndpoint, raw_request: Callable[..., Any]) -> None:
    headers = signed(verified, "GET", "/datastore", **{"amz-sdk-invocation-id": "original"})
    assert "amz-sdk-invocation-id" in headers["Authorization"]
    headers["amz-sdk-invocation-id"] = "replaced"
    response = raw_request("GET", "/datastore", headers=headers, sign=False)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")
    assert response.json["message"].startswith("The request signature we calculated does not match")


def test_a_signature_replayed_with_another_method_deletes_nothing(
    verified: LocalEndpoint, mi: Any, raw_request: Callable[..., Any]
) -> None:
    datastore_id = active_datastore(mi)
    path = f"/datastore/{datastore_id}"
    headers = signed(verified, "GET", path)
    response = raw_request("DELETE", path, headers=headers, sign=False)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")
    assert mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE"


def test_a_tampered_create_creates_nothing(verified: LocalEndpoint, mi: Any, raw_request: Callable[..., Any]) -> None:
    headers = signed(verified, "POST", "/datastore", json.dumps({"datastoreName": "a", "clientToken": "t"}).encode())
    tampered = json.dumps({"datastoreName": "b", "clientToken": "t"}).encode()
    response = raw_request("POST", "/datastore", tampered, headers=headers, sign=False)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")
    assert mi.list_datastores()["datastoreSummaries"] == []


def test_a_wrong_secret_changes_nothing(verified: LocalEndpoint, mi: Any, make_client: Callable[..., Any]) -> None:
    datastore_id = active_datastore(mi)
    arn = mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreArn"]
    intruder = make_client("medical-imaging", aws_secret_access_key="guessed")
    for call in (
        lambda: intruder.tag_resource(resourceArn=arn, tags={"owner": "intruder"}),
        lambda: intruder.delete_datastore(datastoreId=datastore_id),
        lambda: intruder.create_datastore(datastoreName="intruder"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert mi.list_tags_for_resource(resourceArn=arn)["tags"] == {}
    assert [s["datastoreId"] for s in mi.list_datastores()["datastoreSummaries"]] == [datastore_id]


def test_an_unsigned_boto3_client_gets_missing_authentication_token(verified: LocalEndpoint, make_client: Callable[..., Any]) -> None:
    anonymous = make_client("medical-imaging", config=Config(signature_version=UNSIGNED))
    with pytest.raises(ClientError) as caught:
        anonymous.list_datastores()
    assert caught.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_authorization_header_without_its_signature_is_incomplete(
    verified: LocalEndpoint, raw_request: Callable[..., Any]
) -> None:
    headers = signed(verified, "GET", "/datastore")
    headers["Authorization"] = headers["Authorization"].split(", Signature=")[0]
    response = raw_request("GET", "/datastore", headers=headers, sign=False)
    assert (response.status, response.error_type) == (403, "IncompleteSignatureException")


def test_a_timestamp_from_the_future_is_rejected(verified: LocalEndpoint, mi: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ahead = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: ahead)
    with pytest.raises(ClientError) as caught:
        mi.list_datastores()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["Error"]["Message"].startswith("Signature not yet current:")


# --- binding ------------------------------------------------------------------------------------------


def test_the_endpoint_binds_loopback_by_default(endpoint: LocalEndpoint) -> None:
    assert EndpointConfig().host == "127.0.0.1"
    assert endpoint._server is not None and endpoint._server.server_address[0] == "127.0.0.1"  # noqa: SLF001


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_a_non_loopback_bind_without_verification_is_refused_before_anything_opens(tmp_path: Path, host: str) -> None:
    server = LocalEndpoint(EndpointConfig(state_dir=tmp_path / "state", host=host))
    with pytest.raises(ValueError, match="without signature verification"):
        server.start()
    assert server.runtime is None and not (tmp_path / "state").exists()


def test_a_non_loopback_bind_with_verification_serves_signed_requests_only(tmp_path: Path) -> None:
    config = EndpointConfig(state_dir=tmp_path / "state", host="0.0.0.0", verify_signatures=True, shared_secret=SECRET)
    with LocalEndpoint(config) as server:
        url = f"http://127.0.0.1:{server.port}"
        options: dict[str, Any] = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": ACCESS_KEY}
        good = boto3.session.Session().client("medical-imaging", aws_secret_access_key=SECRET, **options)
        assert good.list_datastores()["datastoreSummaries"] == []
        bad = boto3.session.Session().client(
            "medical-imaging", aws_secret_access_key="nope", config=Config(retries={"total_max_attempts": 1}), **options
        )
        with pytest.raises(ClientError, match="InvalidSignatureException"):
            bad.list_datastores()


# --- what the endpoint writes to disk and to its logs --------------------------------------------

MARKERS = {
    "patient": "Zqxpatient^Marker",
    "patient_id": "ZQXPID777",
    "study": "ZQX study marker",
    "accession": "ZQXACC9",
    "updated": "ZQX updated marker",
    "tag": "zqx-tag-marker",
    "name": "zqx-name-marker",
}
MARKED = Subject(
    patient_id=MARKERS["patient_id"],
    patient_name=MARKERS["patient"],
    accession=MARKERS["accession"],
    study_description=MARKERS["study"],
)


def exercise(mi: Any, s3: Any, files: list[tuple[str, bytes]]) -> dict[str, str]:
    """Import, read, update, copy, tag and fail a few requests, with marker values everywhere; the ids used."""
    for bucket in (INPUT_BUCKET, OUTPUT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    for name, data in files:
        s3.put_object(Bucket=INPUT_BUCKET, Key=INPUT_PREFIX + name, Body=data)
    datastore_id = mi.create_datastore(datastoreName=MARKERS["name"], tags={"owner": MARKERS["tag"]})["datastoreId"]
    deadline = time.monotonic() + 15
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    arn = mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreArn"]
    mi.tag_resource(resourceArn=arn, tags={"project": MARKERS["tag"], MARKERS["tag"]: "key-as-marker"})
    job_id = start_job(mi, datastore_id)
    while (job := mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"])["jobStatus"] not in (
        "COMPLETED", "FAILED"
    ):
        assert time.monotonic() < deadline + 30
        time.sleep(0.05)
    assert job["jobStatus"] == "COMPLETED", job
    bucket, _, folder = job["outputS3Uri"].removeprefix("s3://").partition("/")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=folder + "job-output-manifest.json")["Body"].read())
    image_set_id = manifest["jobSummary"]["imageSetsSummary"][0]["imageSetId"]
    document = json.loads(gzip.decompress(
        mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetMetadataBlob"].read()
    ))
    assert document["Patient"]["DICOM"]["PatientName"] == MARKERS["patient"]
    patch = {"SchemaVersion": "1.1", "Study": {"DICOM": {"StudyDescription": MARKERS["updated"]}}}
    mi.update_image_set_metadata(
        datastoreId=datastore_id, imageSetId=image_set_id, latestVersionId="1",
        updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": json.dumps(patch).encode()}},
    )
    image_set_arn = f"{arn}/imageset/{image_set_id}"
    mi.tag_resource(resourceArn=image_set_arn, tags={"reader": MARKERS["tag"]})
    for failing in (
        lambda: mi.tag_resource(resourceArn=arn + "0", tags={"x": MARKERS["tag"]}),  # no such resource
        lambda: mi.update_image_set_metadata(  # LOCKED by the update just made, or a bad patch
            datastoreId=datastore_id, imageSetId=image_set_id, latestVersionId="1",
            updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": json.dumps(
                {"SchemaVersion": "1.1", "Patient": {"DICOM": {"NoSuchKeyword": MARKERS["updated"]}}}).encode()}},
        ),
        lambda: mi.search_image_sets(datastoreId=datastore_id, searchCriteria={"filters": [
            {"values": [{"DICOMPatientId": MARKERS["patient_id"]}], "operator": "EQUAL"}]}),
    ):
        try:
            failing()
        except ClientError:
            pass
    return {"datastore": datastore_id, "image_set": image_set_id}


def assert_no_marker(text: str, where: str) -> None:
    found = sorted(name for name, value in MARKERS.items() if value in text)
    assert not found, f"{where} contains the {', '.join(found)} marker value(s)"


def private_tree_problems(root: Path) -> list[str]:
    """Every directory not 0700 and file not 0600 under root (root included)."""
    problems = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            problems.append(f"{path.relative_to(root.parent)} is {mode:o}, not {wanted:o}")
    return problems


def test_state_is_private_and_logs_hold_no_values_even_with_umask_zero(tmp_path: Path) -> None:
    """`ahi local` under umask 0, DEBUG logs of our own code, marker values in DICOM, patches, tags and names."""
    before = functools.partial(with_umask, 0, with_debug_logging)
    state = tmp_path / "state"
    child = start_local(tmp_path / "logs", "--state-dir", str(state), "--faults", "*:latency=1ms", before=before)
    try:
        exercise(child.client(attempts=5), child.client("s3"), ct_series(2, 32, subject=MARKED, series_key="marked"))
        time.sleep(0.6)  # the update's lock settles (0.3 s by default)
    finally:
        assert child.stop() == 0
    assert (state / "frames").is_dir(), "the import wrote no frames; the permission check would miss them"
    assert private_tree_problems(state) == []
    logs = child.stderr() + child.stdout()
    assert "DEBUG emulator: " in logs, "DEBUG logging was not on"
    assert_no_marker(logs, "the endpoint's log")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def every_log_line() -> Iterator[Collect]:
    """Root at INFO (as `ahi` and `ahi local` configure it), our own packages at DEBUG, formatted with tracebacks."""
    collect = Collect()
    collect.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "emulator", "services", "tui")}
    root.addHandler(collect)
    root.setLevel(logging.INFO)
    for name in ("emulator", "services", "tui"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield collect
    finally:
        root.removeHandler(collect)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.faults("TagResource:5xx-after=0.3", seed=38)  # the first TagResource commits, then answers 500
def test_the_console_call_log_and_log_lines_hold_no_values(
    endpoint: LocalEndpoint, aws_env: dict[str, str], every_log_line: Collect
) -> None:
    """The console's session (call log attached) drives the same calls against the in-process endpoint."""
    session = AwsSession(ConnectionSettings(region="us-east-1", endpoint_url=endpoint.url, local_credentials=True))
    exercise(session.medical_imaging, session.client("s3"), ct_series(2, 32, subject=MARKED, series_key="marked"))
    records = session.call_log.records()
    operations = {record.operation for record in records}
    assert {"CreateDatastore", "TagResource", "StartDICOMImportJob", "UpdateImageSetMetadata"} <= operations
    assert endpoint.faults is not None and endpoint.faults.counts(), "no fault was injected; the error paths went untested"
    assert_no_marker("\n".join(f"{r.operation} {r.outcome} {r.cli_command}" for r in records), "the console call log")
    assert every_log_line.lines, "nothing was logged"
    assert_no_marker("\n".join(every_log_line.lines), "the log")
