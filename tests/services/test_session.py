"""The client factory: endpoint from flag or environment, host prefix off, account via STS."""

from __future__ import annotations

import pytest

from ahi.emulator.server import LocalEndpoint
from ahi.services.datastores import DatastoreService
from ahi.services.errors import AwsCallError
from ahi.services.session import AwsSession, ConnectionSettings, is_aws_endpoint

IMAGE_SET_ID = "0" * 32


def test_endpoint_flag_reaches_runtime_operations_without_host_prefix(aws: AwsSession) -> None:
    assert aws.endpoint_url.startswith("http://127.0.0.1:")
    assert aws.is_local
    assert aws.medical_imaging.meta.config.inject_host_prefix is False
    # GetImageSet carries the `runtime-` host prefix; with it, the request could not even connect.
    with pytest.raises(Exception) as caught:
        aws.medical_imaging.get_image_set(datastoreId="0" * 32, imageSetId=IMAGE_SET_ID)
    assert "Could not connect" not in str(caught.value)
    assert aws.call_log.records()[-1].operation == "GetImageSet"


def test_endpoint_from_environment_is_detected_and_host_prefix_switched_off(
    endpoint: LocalEndpoint, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DISABLE_HOST_PREFIX_INJECTION")
    session = AwsSession(ConnectionSettings(max_attempts=1))
    assert session.endpoint_url == endpoint.url
    assert session.is_local
    assert session.medical_imaging.meta.config.inject_host_prefix is False
    assert session.cli_context("medical-imaging").endpoint_url == endpoint.url
    assert DatastoreService(session.medical_imaging).list() == []


def test_account_comes_from_sts(aws: AwsSession) -> None:
    assert aws.account_id() == "123456789012"
    assert aws.account_error is None


def test_account_failure_is_tolerated(aws_env: dict[str, str]) -> None:
    session = AwsSession(
        ConnectionSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9", local_credentials=True, max_attempts=1)
    )
    assert session.account_id() is None
    assert isinstance(session.account_error, AwsCallError)
    assert session.account_error.operation == "GetCallerIdentity"
    assert session.account_error.code == "EndpointConnectionError"


def test_aws_hosts_are_told_apart_from_local_ones() -> None:
    assert is_aws_endpoint("https://medical-imaging.us-east-1.amazonaws.com")
    assert is_aws_endpoint(None)
    assert not is_aws_endpoint("http://127.0.0.1:4566")
    assert not is_aws_endpoint("http://localhost.localstack.cloud:4566")


def test_standard_retry_mode_and_aws_endpoint_by_default(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    session = AwsSession(ConnectionSettings(region="us-east-1"))
    assert session.medical_imaging.meta.config.retries["mode"] == "standard"
    assert not session.is_local
    assert session.endpoint_url == "https://medical-imaging.us-east-1.amazonaws.com"


def test_a_session_for_the_local_endpoint_reuses_the_models_loaded_while_it_started(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ahi --local` loads the medical-imaging model while the endpoint starts; the session for its URL reads no model file again."""
    import botocore.loaders
    import botocore.session

    monkeypatch.setattr(botocore.session, "create_loader", botocore.loaders.create_loader)  # each session its own, as outside tests
    pending = AwsSession(ConnectionSettings(region="us-east-1", endpoint_url="http://127.0.0.1", local_credentials=True))
    pending.medical_imaging
    monkeypatch.setattr("botocore.loaders.JSONFileLoader.load_file", lambda *args: pytest.fail(f"model file read again: {args[1:]}"))
    connected = AwsSession(ConnectionSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9", local_credentials=True), models_from=pending)
    assert connected.medical_imaging.meta.endpoint_url == "http://127.0.0.1:9"
    with pytest.raises(pytest.fail.Exception, match="model file read again"):
        AwsSession(ConnectionSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9", local_credentials=True)).medical_imaging
