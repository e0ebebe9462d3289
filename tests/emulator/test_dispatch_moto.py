"""One port, two apps: S3/KMS/STS served by moto, medical-imaging only by our app."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from ahi.emulator.server import LocalEndpoint


def test_s3_kms_sts_are_served_by_moto_on_the_same_port(s3: Any, kms: Any, sts: Any) -> None:
    s3.create_bucket(Bucket="staging-bucket")
    s3.put_object(Bucket="staging-bucket", Key="in/a.dcm", Body=b"DICM" * 10)
    assert s3.get_object(Bucket="staging-bucket", Key="in/a.dcm")["Body"].read() == b"DICM" * 10
    key = kms.create_key(Description="datastore key")["KeyMetadata"]
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyState"] == "Enabled"
    assert key["Arn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_medical_imaging_never_reaches_moto(endpoint: LocalEndpoint, mi: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reached: list[str] = []
    from ahi.emulator import dispatcher

    server_app = endpoint._server.app  # type: ignore[union-attr]
    original = server_app.other
    monkeypatch.setattr(server_app, "other", lambda environ, start: reached.append(environ["PATH_INFO"]) or original(environ, start))
    with pytest.raises(mi.exceptions.ValidationException):
        mi.get_datastore(datastoreId="NOT-AN-ID")
    assert reached == []
    s3_scope = "AWS4-HMAC-SHA256 Credential=A/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
    assert dispatcher.service_of({"HTTP_AUTHORIZATION": s3_scope}) == "s3"


def test_unsigned_request_to_our_route_gets_json_not_html(endpoint: LocalEndpoint) -> None:
    request = urllib.request.Request(f"{endpoint.url}/datastore/NOT-AN-ID", method="GET")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    error = caught.value
    assert error.code == 400
    assert error.headers["x-amzn-ErrorType"] == "ValidationException"
    assert error.headers["x-amzn-RequestId"]
    assert "datastoreId" in json.loads(error.read())["message"]


MOTO_ON_FIRST_NEED = """
import sys, tempfile
from pathlib import Path
import boto3
from botocore.config import Config
from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint

def client(service, url):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="k",
                        aws_secret_access_key="s", config=Config(inject_host_prefix=False))

with LocalEndpoint(EndpointConfig(state_dir=Path(tempfile.mkdtemp()))) as endpoint:
    client("medical-imaging", endpoint.url).list_datastores()
    print("after medical-imaging:", "moto" in sys.modules)
    s3 = client("s3", endpoint.url)
    s3.create_bucket(Bucket="first-moto-request")
    s3.put_object(Bucket="first-moto-request", Key="k", Body=b"x", Metadata={"my_key": "v"})
    print("metadata:", s3.head_object(Bucket="first-moto-request", Key="k")["Metadata"])
    print("after s3:", "moto" in sys.modules)
"""


def test_moto_loads_on_the_first_request_for_another_service() -> None:
    """Medical-imaging calls never load moto (half a second of start-up); the first S3 call does, with moto's handler."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", MOTO_ON_FIRST_NEED], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "after medical-imaging: False",
        # Werkzeug drops headers with underscores; moto's handler keeps S3 metadata names as sent.
        "metadata: {'my_key': 'v'}",
        "after s3: True",
    ]
