"""Optional SigV4 verification: good requests pass, every kind of bad one fails with AWS's code (403)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import botocore.auth
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from werkzeug.datastructures import Headers

from ahi.emulator.config import EndpointConfig
from ahi.emulator.errors import InvalidSignatureException
from ahi.emulator.protocol.sigv4 import SignedRequest, Verifier
from ahi.emulator.server import LocalEndpoint

SIGNATURE_CODES = {
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
}
DATASTORE_ARN = "arn:aws:medical-imaging:us-east-1:123456789012:datastore/" + "a" * 32


@pytest.fixture
def endpoint_config(endpoint_config: EndpointConfig, aws_credentials: tuple[str, str]) -> EndpointConfig:
    access_key, secret = aws_credentials
    endpoint_config.verify_signatures = True
    endpoint_config.secrets = {access_key: secret}
    endpoint_config.max_clock_skew = 300
    return endpoint_config


@pytest.fixture
def aws_credentials() -> tuple[str, str]:
    """The same dummy pair the shared fixtures sign with (conftest's ACCESS_KEY / SECRET_KEY)."""
    return "AKIDLOCALTEST", "local-test-secret"


def signed_headers(endpoint: LocalEndpoint, method: str, path: str, body: bytes, credentials: tuple[str, str]) -> dict[str, str]:
    """Headers botocore's signer puts on a medical-imaging request for exactly this path and body."""
    headers = {"Host": f"127.0.0.1:{endpoint.port}"}
    if body:
        headers["Content-Type"] = "application/json"
    request = AWSRequest(method=method, url=f"http://127.0.0.1:{endpoint.port}{path}", data=body, headers=headers)
    SigV4Auth(Credentials(*credentials), "medical-imaging", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def error_of(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_good_requests_pass(mi: Any) -> None:
    created = mi.create_datastore(datastoreName="signed", clientToken="signed-1")
    arn = mi.get_datastore(datastoreId=created["datastoreId"])["datastoreProperties"]["datastoreArn"]
    mi.tag_resource(resourceArn=arn, tags={"team": "imaging"})  # an encoded ARN in the path
    assert mi.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "imaging"}
    assert mi.list_datastores(maxResults=5)["datastoreSummaries"][0]["datastoreId"] == created["datastoreId"]
    code, status, _ = error_of(lambda: mi.get_image_set_metadata(datastoreId="a" * 32, imageSetId="b" * 32, versionId="1"))
    assert code not in SIGNATURE_CODES and status != 403


def test_wrong_secret_is_invalid_signature(make_client: Callable[..., Any]) -> None:
    mi = make_client("medical-imaging", aws_secret_access_key="not-the-secret")
    code, status, message = error_of(mi.list_datastores)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("The request signature we calculated does not match")


def test_unknown_access_key_is_unrecognized_client(make_client: Callable[..., Any]) -> None:
    mi = make_client("medical-imaging", aws_access_key_id="AKIDNOBODYKNOWS")
    assert error_of(mi.list_datastores)[:2] == ("UnrecognizedClientException", 403)


def test_missing_signature_is_missing_authentication_token(raw_request: Callable[..., Any]) -> None:
    response = raw_request("GET", "/datastore", sign=False)
    assert (response.status, response.error_type) == (403, "MissingAuthenticationTokenException")
    assert response.json == {"message": "Missing Authentication Token"}


def test_tampered_path_fails(endpoint: LocalEndpoint, raw_request: Callable[..., Any], aws_credentials: tuple[str, str]) -> None:
    headers = signed_headers(endpoint, "GET", "/datastore/" + "a" * 32, b"", aws_credentials)
    response = raw_request("GET", "/datastore/" + "b" * 32, headers=headers, sign=False)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")


def test_tampered_body_fails(endpoint: LocalEndpoint, raw_request: Callable[..., Any], aws_credentials: tuple[str, str]) -> None:
    path = "/tags/" + DATASTORE_ARN.replace(":", "%3A").replace("/", "%2F")
    headers = signed_headers(endpoint, "POST", path, json.dumps({"tags": {"a": "1"}}).encode(), aws_credentials)
    response = raw_request("POST", path, json.dumps({"tags": {"a": "2"}}).encode(), headers=headers, sign=False)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")


def test_encoded_arn_path_signed_correctly_passes_signature_check(raw_request: Callable[..., Any]) -> None:
    path = "/tags/" + DATASTORE_ARN.replace(":", "%3A").replace("/", "%2F")
    response = raw_request("GET", path)
    assert (response.status, response.error_type) == (404, "ResourceNotFoundException")


def test_expired_timestamp_fails_when_skew_is_checked(mi: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    late = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: late)
    code, status, message = error_of(mi.list_datastores)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("Signature expired:")


def test_runtime_host_is_accepted(raw_request: Callable[..., Any], endpoint: LocalEndpoint) -> None:
    response = raw_request("GET", "/datastore", host=f"runtime-127.0.0.1:{endpoint.port}")
    assert response.status == 200
    assert response.json == {"datastoreSummaries": []}


def test_injected_host_prefix_through_a_proxy_passes(make_client: Callable[..., Any], endpoint: LocalEndpoint) -> None:
    """boto3's own `runtime-` URL, delivered in absolute form through a proxy (docs/wire.md#host-prefix-injection)."""
    mi = make_client("medical-imaging", config=Config(inject_host_prefix=True, proxies={"http": endpoint.url}))
    code, status, _ = error_of(lambda: mi.get_image_set(datastoreId="a" * 32, imageSetId="b" * 32))
    assert code not in SIGNATURE_CODES and status != 403


def test_presigned_query_request_passes(raw_request: Callable[..., Any], endpoint: LocalEndpoint, aws_credentials: tuple[str, str]) -> None:
    url = f"http://127.0.0.1:{endpoint.port}/datastore?maxResults=5"
    request = AWSRequest(method="GET", url=url, headers={"Host": f"127.0.0.1:{endpoint.port}"})
    SigV4QueryAuth(Credentials(*aws_credentials), "medical-imaging", "us-east-1", expires=60).add_auth(request)
    path = request.url.split(str(endpoint.port), 1)[1]
    assert "X-Amz-Signature=" in path
    assert raw_request("GET", path, sign=False).status == 200
    tampered = path.replace("maxResults=5", "maxResults=6")
    assert raw_request("GET", tampered, sign=False).error_type == "InvalidSignatureException"


def test_s3_is_left_to_moto_when_verifying(s3: Any) -> None:
    s3.create_bucket(Bucket="verify-on-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["verify-on-bucket"]


def test_scope_date_must_match_amz_date() -> None:
    verifier = Verifier(secrets={"AK": "s"})
    headers = {
        "Host": "127.0.0.1:1",
        "X-Amz-Date": "20240102T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/medical-imaging/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    }
    with pytest.raises(InvalidSignatureException, match="Date in Credential scope does not match"):
        verifier.verify(SignedRequest("GET", "/datastore", "", headers, b""))


def test_shared_secret_accepts_any_access_key(make_client: Callable[..., Any], endpoint: LocalEndpoint) -> None:
    endpoint.stop()
    endpoint.config.secrets = {}
    endpoint.config.shared_secret = "one-secret-for-all"
    endpoint.start()
    mi = make_client("medical-imaging", aws_access_key_id="AKIDANYONE", aws_secret_access_key="one-secret-for-all")
    assert mi.list_datastores()["datastoreSummaries"] == []
    wrong = make_client("medical-imaging", aws_access_key_id="AKIDANYONE", aws_secret_access_key="nope")
    assert error_of(wrong.list_datastores)[0] == "InvalidSignatureException"


def _verify_query(signed_params: list[tuple[str, str]], sent_query: str) -> None:
    """Sign a GET whose query is canonicalised from parameters (as boto3 does), then verify it as sent."""
    request = AWSRequest(method="GET", url="http://127.0.0.1:1/datastore/d/studies", params=signed_params,
                         headers={"Host": "127.0.0.1:1"})  # fmt: skip
    SigV4Auth(Credentials("AK", "s"), "medical-imaging", "us-east-1").add_auth(request)
    headers = Headers(dict(request.headers.items()))
    Verifier(secrets={"AK": "s"}).verify(SignedRequest("GET", "/datastore/d/studies", sent_query, headers))


def test_query_is_canonicalised_as_aws_does_a_plus_received_being_a_space() -> None:
    params = [("PatientName", "DOE JOHN"), ("includefield", "00100020,StudyDate"), ("limit", "5")]
    for sent in (
        "PatientName=DOE+JOHN&includefield=00100020,StudyDate&limit=5",
        "limit=5&PatientName=DOE%20JOHN&includefield=00100020%2CStudyDate",
    ):
        _verify_query(params, sent)
    _verify_query([("q", "a+b")], "q=a%2Bb")
    with pytest.raises(InvalidSignatureException):
        _verify_query([("q", "a+b")], "q=a+b")
