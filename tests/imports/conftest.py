"""Fixtures for the import-job service tests: hand-made job folders in moto S3 on the local endpoint."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from triage_helpers import FOLDER, INPUT_BUCKET, OUTPUT_BUCKET, PutFolder

from ahi.emulator.server import LocalEndpoint
from ahi.services.imports import JobFolder

@pytest.fixture
def buckets(s3: Any) -> Any:
    """The input and output buckets, created empty; returns the S3 client."""
    s3.create_bucket(Bucket=OUTPUT_BUCKET)
    s3.create_bucket(Bucket=INPUT_BUCKET)
    return s3


@pytest.fixture
def put_folder(buckets: Any) -> PutFolder:
    """Write a job folder: `manifest` (dict, bytes or None) and each ndjson file as text (None: not written)."""

    def put(
        manifest: dict[str, Any] | bytes | None = None,
        success: str | None = None,
        failure: str | None = None,
        warning: str | None = None,
    ) -> JobFolder:
        files = {
            "job-output-manifest.json": json.dumps(manifest).encode() if isinstance(manifest, dict) else manifest,
            "SUCCESS/success.ndjson": success.encode() if success is not None else None,
            "FAILURE/failure.ndjson": failure.encode() if failure is not None else None,
            "WARNING/warning.ndjson": warning.encode() if warning is not None else None,
        }
        for name, body in files.items():
            if body is not None:
                buckets.put_object(Bucket=OUTPUT_BUCKET, Key=FOLDER.uri.key + name, Body=body)
        return FOLDER

    return put


def _reset_auth(endpoint: LocalEndpoint, count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint.url}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture
def enforce_iam(endpoint: LocalEndpoint, make_client: Callable[..., Any]) -> Iterator[Callable[[dict], Any]]:
    """Turn on moto's IAM enforcement (its server-mode switch); yields a factory of S3 clients for a user
    holding the given policy. Enforcement is switched off again afterwards."""
    iam = make_client("iam")
    made: list[int] = []

    def client_for(policy: dict[str, Any]) -> Any:
        name = f"triage-user-{len(made)}"
        made.append(1)
        _reset_auth(endpoint, "inf")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="triage", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        _reset_auth(endpoint, "0")
        return make_client("s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])

    try:
        yield client_for
    finally:
        _reset_auth(endpoint, "inf")
