"""Signatures mean what AWS means: captured requests replayed and altered, stale and expired ones, a claimed
account, and moto's services (S3, KMS, STS) without or with wrong credentials, all under --verify-signatures
with the default clock skew (15 minutes)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from raw_http import ACCESS_KEY, SECRET_KEY, RawResponse, send_raw

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint

PHI = "Zqx^Patient-PHI-marker"
OTHER_ACCOUNT = "999999999999"


@pytest.fixture
def endpoint_config(endpoint_config: EndpointConfig) -> EndpointConfig:
    """Verification on, one key in the configured account, and the clock check at its default."""
    endpoint_config.verify_signatures = True
    endpoint_config.secrets = {ACCESS_KEY: SECRET_KEY}
    assert endpoint_config.max_clock_skew == 900
    return endpoint_config


def captured(
    endpoint: LocalEndpoint, method: str, path: str, body: bytes = b"", *, service: str = "medical-imaging", **headers: str
) -> dict[str, str]:
    """The headers a client signed for exactly this request (botocore's signer, as boto3 uses it)."""
    all_headers = {"Host": f"127.0.0.1:{endpoint.port}", **headers}
    if body and service == "medical-imaging":
        all_headers["Content-Type"] = "application/json"
    request = AWSRequest(method=method, url=f"http://127.0.0.1:{endpoint.port}{path}", data=body, headers=all_headers)
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials(ACCESS_KEY, SECRET_KEY), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def s3_error(response: RawResponse) -> str:
    match = re.search(rb"<Code>([^<]+)</Code>", response.body)
    return match.group(1).decode() if match else ""


def at(monkeypatch: pytest.MonkeyPatch, delta: dt.timedelta) -> None:
    """Make botocore sign as if its clock were `delta` off."""
    then = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + delta
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: then)


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def tagged_datastore(mi: Any) -> str:
    datastore_id = mi.create_datastore(datastoreName="signed", tags={"owner": "radiology"})["datastoreId"]
    return str(mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreArn"])


@pytest.mark.parametrize("payload_header", ["signed-hash", "UNSIGNED-PAYLOAD", None])
def test_a_replayed_tag_request_with_another_body_changes_nothing(
    endpoint: LocalEndpoint, mi: Any, payload_header: str | None
) -> None:
    arn = tagged_datastore(mi)
    path = "/tags/" + quote(arn, safe="")
    original = json.dumps({"tags": {"owner": "radiology"}}).encode()
    extra = {} if payload_header is None else {
        "X-Amz-Content-SHA256": hashlib.sha256(original).hexdigest() if payload_header == "signed-hash" else payload_header
    }
    headers = captured(endpoint, "POST", path, original, **extra)
    hostile = json.dumps({"tags": {"owner": "attacker"}}).encode()
    response = send_raw(endpoint, "POST", path, hostile, headers, sign=False)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")
    assert mi.list_tags_for_resource(resourceArn=arn)["tags"] == {"owner": "radiology"}
    if payload_header == "signed-hash":  # the capture itself, unaltered, is a good request
        assert send_raw(endpoint, "POST", path, original, headers, sign=False).status == 200


def test_a_replayed_s3_put_with_another_body_is_refused(endpoint: LocalEndpoint, s3: Any) -> None:
    s3.create_bucket(Bucket="phi")
    s3.put_object(Bucket="phi", Key="report.txt", Body=PHI.encode())
    original = b"original"
    headers = captured(endpoint, "PUT", "/phi/report.txt", original, service="s3",
                       **{"X-Amz-Content-SHA256": hashlib.sha256(original).hexdigest()})
    response = send_raw(endpoint, "PUT", "/phi/report.txt", b"tampered", headers, sign=False)
    assert (response.status, s3_error(response)) == (400, "XAmzContentSHA256Mismatch")
    chunked = {**headers, "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}
    response = send_raw(endpoint, "PUT", "/phi/report.txt", b"tampered", chunked, sign=False)
    assert (response.status, s3_error(response)) == (501, "NotImplemented")
    assert s3.get_object(Bucket="phi", Key="report.txt")["Body"].read() == PHI.encode()


def test_presigned_urls_expire(
    endpoint: LocalEndpoint, s3: Any, make_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3's default S3 presigning (HMAC-SHA1 with Expires) and SigV4's X-Amz-Expires, for S3 and ours."""
    s3.create_bucket(Bucket="phi")
    s3.put_object(Bucket="phi", Key="report.txt", Body=PHI.encode())
    s3v4 = make_client("s3", config=Config(signature_version="s3v4"))
    params = {"Bucket": "phi", "Key": "report.txt"}
    fresh = [client.generate_presigned_url("get_object", Params=params, ExpiresIn=60) for client in (s3, s3v4)]
    stale = [s3.generate_presigned_url("get_object", Params=params, ExpiresIn=-1)]
    at(monkeypatch, -dt.timedelta(minutes=5))  # well inside the skew, but past the URL's 60 s
    stale.append(s3v4.generate_presigned_url("get_object", Params=params, ExpiresIn=60))
    url = f"http://127.0.0.1:{endpoint.port}/datastore?maxResults=5"
    request = AWSRequest(method="GET", url=url, headers={"Host": f"127.0.0.1:{endpoint.port}"})
    SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "medical-imaging", "us-east-1", expires=60).add_auth(request)
    stale_mi = request.url.split(str(endpoint.port), 1)[1]

    def get(url: str) -> RawResponse:
        return send_raw(endpoint, "GET", url.split(str(endpoint.port), 1)[1], sign=False)

    assert "X-Amz-Expires=" in fresh[1] and "&Expires=" in fresh[0]
    assert [get(url).body for url in fresh] == [PHI.encode()] * 2
    for url in stale:
        refused = get(url)
        assert (refused.status, s3_error(refused)) == (403, "AccessDenied") and b"Request has expired" in refused.body
    response = send_raw(endpoint, "GET", stale_mi, sign=False)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")
    assert response.json["message"].startswith("Signature expired")


def test_a_request_400_days_old_is_refused_by_default(endpoint: LocalEndpoint, mi: Any, s3: Any, sts: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    s3.create_bucket(Bucket="phi")
    at(monkeypatch, -dt.timedelta(days=400))
    with pytest.raises(ClientError) as caught:
        mi.list_datastores()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["Error"]["Message"].startswith("Signature expired")
    assert error_code(lambda: s3.list_objects_v2(Bucket="phi")) == "RequestTimeTooSkewed"
    assert error_code(sts.get_caller_identity) == "SignatureDoesNotMatch"


def test_the_account_comes_from_the_key_not_a_header(endpoint: LocalEndpoint, make_client: Callable[..., Any]) -> None:
    def claim_other_account(request: AWSRequest, **kwargs: Any) -> None:
        request.headers["x-moto-account-id"] = OTHER_ACCOUNT  # added before signing: even signed, it is ignored

    clients = {name: make_client(name) for name in ("medical-imaging", "sts", "iam")}
    for client in clients.values():
        client.meta.events.register("before-sign", claim_other_account)
    account = endpoint.config.account_id
    arn = tagged_datastore(clients["medical-imaging"])
    assert arn.split(":")[4] == account
    assert clients["sts"].get_caller_identity()["Account"] == account
    clients["iam"].create_user(UserName="reader")
    key = clients["iam"].create_access_key(UserName="reader")["AccessKey"]
    reader = make_client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    assert reader.get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:user/reader"  # moto's IAM key, its account
    wrong = make_client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="guessed")
    assert error_code(wrong.get_caller_identity) == "SignatureDoesNotMatch"
    role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/auditor"  # a role in another account: its keys act there
    issued = clients["sts"].assume_role(RoleArn=role, RoleSessionName="audit")["Credentials"]
    pair = {"aws_access_key_id": issued["AccessKeyId"], "aws_secret_access_key": issued["SecretAccessKey"]}
    auditor = make_client("medical-imaging", aws_session_token=issued["SessionToken"], **pair)
    assert auditor.create_datastore(datastoreName="audit")["datastoreId"]
    assert [s["datastoreArn"].split(":")[4] for s in auditor.list_datastores()["datastoreSummaries"]] == [OTHER_ACCOUNT]
    without_token = make_client("sts", **pair)
    assert error_code(without_token.get_caller_identity) == "InvalidClientTokenId"


def test_moto_services_refuse_no_or_wrong_credentials(endpoint: LocalEndpoint, make_client: Callable[..., Any]) -> None:
    good = {name: make_client(name) for name in ("s3", "kms", "sts")}
    good["s3"].create_bucket(Bucket="phi")
    good["s3"].put_object(Bucket="phi", Key="patient.dcm", Body=PHI.encode())
    key_id = good["kms"].create_key()["KeyMetadata"]["KeyId"]
    assert good["s3"].get_object(Bucket="phi", Key="patient.dcm")["Body"].read() == PHI.encode()
    assert good["kms"].describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
    assert good["sts"].get_caller_identity()["Account"] == endpoint.config.account_id
    anonymous = {name: make_client(name, config=Config(signature_version=UNSIGNED)) for name in good}
    wrong = {name: make_client(name, aws_secret_access_key="guessed") for name in good}
    unknown = {name: make_client(name, aws_access_key_id="AKIDNOBODYKNOWS") for name in good}
    expected = {
        "s3": ("AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId"),
        "kms": ("MissingAuthenticationTokenException", "InvalidSignatureException", "UnrecognizedClientException"),
        "sts": ("MissingAuthenticationToken", "SignatureDoesNotMatch", "InvalidClientTokenId"),
    }
    for name, codes in expected.items():
        calls = {
            "s3": lambda c: c.get_object(Bucket="phi", Key="patient.dcm"),
            "kms": lambda c: c.describe_key(KeyId=key_id),
            "sts": lambda c: c.get_caller_identity(),
        }[name]
        got = tuple(error_code(lambda clients=clients: calls(clients[name])) for clients in (anonymous, wrong, unknown))
        assert got == codes, name
    raw = send_raw(endpoint, "GET", "/phi/patient.dcm", sign=False, headers={"x-moto-account-id": "123456789012"})
    assert raw.status == 403 and PHI.encode() not in raw.body


def test_secrets_come_from_a_variable_and_stay_out_of_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    from ahi.emulator.cli import build_parser, gather_secrets
    from ahi.emulator.gate import verifier_for

    monkeypatch.setenv("AHI_LOCAL_SECRETS", "# keys\nAKIDONE=first-secret, AKIDTWO=second-secret\n*=shared-secret")
    parser = build_parser()
    secrets, shared = gather_secrets(parser.parse_args([]), parser)
    assert (secrets, shared) == ({"AKIDONE": "first-secret", "AKIDTWO": "second-secret"}, "shared-secret")
    config = EndpointConfig(verify_signatures=True, secrets=secrets, shared_secret=shared)
    shown = repr(config) + repr(verifier_for(config))
    assert "secret" not in shown.replace("verify_signatures", "") and "AKIDONE" not in shown
