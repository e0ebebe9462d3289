"""Fault injection: the spec grammar, each fault kind over HTTP, reproducibility, idempotency after a commit."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from ahi.emulator.faults import FAULT_HEADER, FaultSpecError, parse_spec
from ahi.emulator.server import LocalEndpoint
from local_process import start_local


def outcome_of(call: Callable[[], Any]) -> str:
    """'OK', the error code, or 'dropped' for a connection closed without a response."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    except ConnectionClosedError:
        return "dropped"
    return "OK"


# --- the grammar -----------------------------------------------------------------------------------


def test_operation_rules_override_the_star_rule_kind_by_kind() -> None:
    spec = parse_spec("ListDatastores:throttle=0.2,5xx=5%; *:latency=50ms,drop=0.01,throttle=0.1")
    listing = spec.for_operation("ListDatastores")
    other = spec.for_operation("GetDatastore")
    assert listing is not None and other is not None
    assert dict(listing.rates) == {"throttle": 0.2, "5xx": 0.05, "drop": 0.01}
    assert dict(other.rates) == {"drop": 0.01, "throttle": 0.1}
    assert listing.latency is not None and (listing.latency.low, listing.latency.high) == (0.05, 0.05)


def test_outcomes_partition_the_draw_in_a_fixed_order() -> None:
    faults = parse_spec("GetDatastore:5xx=0.1,throttle=0.2,drop-after=0.3").for_operation("GetDatastore")
    assert faults is not None
    kinds = [getattr(faults.outcome_for(draw), "kind", None) for draw in (0.0, 0.19, 0.21, 0.29, 0.31, 0.59, 0.61, 0.99)]
    assert kinds == ["throttle", "throttle", "5xx", "5xx", "drop-after", "drop-after", None, None]


def test_quota_under_star_only_reaches_operations_that_model_it() -> None:
    spec = parse_spec("*:quota=0.5")
    assert spec.for_operation("CreateDatastore") is not None
    assert spec.for_operation("ListDatastores") is None


def test_dicomweb_operations_are_targets_and_a_star_quota_skips_them_even_when_named() -> None:
    spec = parse_spec("*:throttle=0.1,quota=0.2;GetDICOMInstance|SearchDICOMStudies:5xx=0.3")
    for name in ("GetDICOMInstance", "SearchDICOMStudies"):
        faults = spec.for_operation(name)
        assert faults is not None and dict(faults.rates) == {"throttle": 0.1, "5xx": 0.3}
    store = spec.for_operation("StoreDICOM")
    assert store is not None and dict(store.rates) == {"throttle": 0.1}
    with pytest.raises(FaultSpecError, match="StoreDICOM never answers ServiceQuotaExceededException"):
        parse_spec("StoreDICOM:quota=0.1")
    with pytest.raises(FaultSpecError, match="did you mean GetDICOMInstanceFrames"):
        parse_spec("GetDICOMInstanceFrame:throttle=0.1")


def test_a_latency_range_and_multiple_targets() -> None:
    spec = parse_spec("GetImageFrame|GetImageSetMetadata:latency=20ms-0.08s")
    for name in ("GetImageFrame", "GetImageSetMetadata"):
        faults = spec.for_operation(name)
        assert faults is not None and faults.latency is not None
        assert faults.latency.seconds(0.0) == pytest.approx(0.02) and faults.latency.seconds(1.0) == pytest.approx(0.08)
    assert spec.for_operation("GetImageSet") is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the fault spec is empty"),
        ("ListDatastore:throttle=0.2", "unknown operation 'ListDatastore'; did you mean ListDatastores?"),
        ("ListDatastores", "expected TARGET:KIND=VALUE"),
        ("ListDatastores:", "expected TARGET:KIND=VALUE"),
        ("ListDatastores:throttle", "should be KIND=VALUE"),
        ("ListDatastores:explode=0.1", "unknown fault 'explode'; kinds are throttle, 5xx, quota, drop"),
        ("ListDatastores:throttle=high", "is not a rate"),
        ("ListDatastores:throttle=1.5", "more than 1"),
        ("ListDatastores:throttle=150%", "more than 1"),
        ("*:throttle=0.6,5xx=0.5", "add up to 1.1"),
        ("ListDatastores:throttle=0.6;*:5xx=0.5", "the failure rates for ListDatastores add up to 1.1"),
        ("GetDatastore:quota=0.1", "GetDatastore never answers ServiceQuotaExceededException"),
        ("*:latency=5", "is not a duration"),
        ("*:latency=80ms-20ms", "from the smaller to the larger"),
        ("ListDatastores:throttle=0.1,throttle=0.2", "throttle is given twice"),
        ("ListDatastores:throttle=0.1;ListDatastores:throttle=0.2", "throttle for ListDatastores is given twice"),
        ("*|ListDatastores:throttle=0.1", "'*' stands alone"),
    ],
)
def test_a_bad_spec_is_refused_with_the_reason(text: str, fragment: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_spec(text)
    assert fragment in str(caught.value)


def test_a_bad_spec_stops_the_endpoint_before_it_binds(endpoint_config: Any) -> None:
    endpoint_config.faults = "ListDatastores:throttle=2"
    server = LocalEndpoint(endpoint_config)
    with pytest.raises(FaultSpecError):
        server.start()
    assert server.runtime is None


# --- each kind over HTTP --------------------------------------------------------------------------


@pytest.mark.faults("ListDatastores:throttle=1;GetDatastore:5xx=1;CreateDatastore:quota=1")
def test_error_kinds_reach_boto3_as_the_modeled_exceptions(mi: Any, endpoint: LocalEndpoint) -> None:
    with pytest.raises(mi.exceptions.ThrottlingException) as throttled:
        mi.list_datastores()
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert throttled.value.response["ResponseMetadata"]["HTTPHeaders"][FAULT_HEADER] == "throttle"
    with pytest.raises(mi.exceptions.InternalServerException) as failed:
        mi.get_datastore(datastoreId="a" * 32)
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    with pytest.raises(mi.exceptions.ServiceQuotaExceededException):
        mi.create_datastore(datastoreName="never")
    assert endpoint.faults is not None
    assert endpoint.faults.counts() == {("ListDatastores", "throttle"): 1, ("GetDatastore", "5xx"): 1, ("CreateDatastore", "quota"): 1}


@pytest.mark.faults("CreateDatastore:5xx=0.5,drop=0.5")
def test_faults_before_the_handler_leave_nothing_behind(mi: Any, endpoint: LocalEndpoint) -> None:
    outcomes = [outcome_of(lambda: mi.create_datastore(datastoreName="ghost")) for _ in range(12)]
    assert set(outcomes) == {"InternalServerException", "dropped"}
    assert mi.list_datastores()["datastoreSummaries"] == []


@pytest.mark.faults("*:5xx=1")
def test_moto_services_are_never_faulted(s3: Any, kms: Any) -> None:
    s3.create_bucket(Bucket="untouched")
    assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == ["untouched"]
    assert kms.create_key()["KeyMetadata"]["Enabled"] is True


@pytest.mark.faults("GetDatastore:latency=150ms")
def test_latency_delays_only_the_named_operation(mi: Any) -> None:
    started = time.monotonic()
    outcome_of(lambda: mi.get_datastore(datastoreId="a" * 32))
    assert time.monotonic() - started >= 0.15
    assert outcome_of(lambda: mi.get_datastore(datastoreId="a" * 32)) == "ResourceNotFoundException"


@pytest.mark.faults("GetDatastore:drop=1")
def test_an_unknown_route_is_never_faulted(raw_request: Callable[..., Any]) -> None:
    response = raw_request("GET", "/no-such-route")
    assert (response.status, response.error_type) == (404, "UnknownOperationException")


# --- reproducibility --------------------------------------------------------------------------------

MIXED = "ListDatastores:throttle=0.3,5xx=0.2,drop=0.1;GetDatastore:5xx=0.25"


def sequence_of(mi: Any, requests: int = 24) -> list[str]:
    """Alternate two operations and note each outcome."""
    outcomes = []
    for index in range(requests):
        if index % 3 == 2:
            outcomes.append(outcome_of(lambda: mi.get_datastore(datastoreId="a" * 32)))
        else:
            outcomes.append(outcome_of(mi.list_datastores))
    return outcomes


@pytest.mark.faults(MIXED, seed=1234)
def test_the_same_seed_and_requests_give_the_same_faults(
    mi: Any, endpoint: LocalEndpoint, make_client: Callable[..., Any]
) -> None:
    first = sequence_of(mi)
    assert {"OK", "ThrottlingException", "InternalServerException", "dropped"} <= set(first)
    endpoint.restart()
    again = sequence_of(make_client("medical-imaging", endpoint_url=endpoint.url))
    assert again == first
    endpoint.stop()
    endpoint.config.faults_seed = 4321
    endpoint.start()
    other_seed = sequence_of(make_client("medical-imaging", endpoint_url=endpoint.url))
    assert other_seed != first


@pytest.mark.faults(MIXED, seed=99)
def test_interleaving_other_operations_does_not_change_an_operations_faults(
    mi: Any, endpoint: LocalEndpoint, make_client: Callable[..., Any]
) -> None:
    only_lists = [outcome_of(mi.list_datastores) for _ in range(10)]
    endpoint.restart()
    client = make_client("medical-imaging", endpoint_url=endpoint.url)
    mixed = []
    for _ in range(10):
        outcome_of(lambda: client.get_datastore(datastoreId="a" * 32))
        mixed.append(outcome_of(client.list_datastores))
    assert mixed == only_lists


# --- succeeded, then the client never heard -------------------------------------------------------


@pytest.mark.faults("CreateDatastore:5xx-after=0.4,drop-after=0.3", seed=7)
def test_a_retried_create_with_its_client_token_creates_one_data_store(mi: Any, endpoint: LocalEndpoint) -> None:
    created = []
    for number in range(5):
        token = f"create-{number}"
        for _ in range(20):
            try:
                created.append(mi.create_datastore(datastoreName=f"store-{number}", clientToken=token)["datastoreId"])
                break
            except (mi.exceptions.InternalServerException, ConnectionClosedError):
                continue
    assert endpoint.faults is not None
    counts = endpoint.faults.counts()
    assert counts[("CreateDatastore", "5xx-after")] >= 2 and counts[("CreateDatastore", "drop-after")] >= 2
    stores = mi.list_datastores()["datastoreSummaries"]
    assert len(created) == 5
    assert sorted(store["datastoreId"] for store in stores) == sorted(created)


@pytest.mark.faults("CreateDatastore:5xx-after=0.5", seed=6)  # the first attempt fails, the second succeeds
def test_boto3s_own_retries_reuse_the_generated_client_token(
    make_client: Callable[..., Any], endpoint: LocalEndpoint
) -> None:
    """botocore fills the idempotency token once per call and resends it on every retry."""
    retrying = make_client("medical-imaging", config=Config(retries={"mode": "standard", "total_max_attempts": 6}))
    response = retrying.create_datastore(datastoreName="once")
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert endpoint.faults is not None and endpoint.faults.counts() == {("CreateDatastore", "5xx-after"): 1}
    assert [store["datastoreId"] for store in retrying.list_datastores()["datastoreSummaries"]] == [response["datastoreId"]]


@pytest.mark.faults("GetDatastore:5xx-after=1")
def test_a_refused_request_keeps_its_own_answer_under_an_after_fault(mi: Any, endpoint: LocalEndpoint) -> None:
    assert outcome_of(lambda: mi.get_datastore(datastoreId="a" * 32)) == "ResourceNotFoundException"
    assert endpoint.faults is not None and not endpoint.faults.counts()


# --- ahi local --faults ------------------------------------------------------------------------------


def test_ahi_local_takes_a_spec_and_a_seed(tmp_path: Path) -> None:
    child = start_local(tmp_path / "logs", "--state-dir", str(tmp_path / "state"),
                        "--faults", "ListDatastores:throttle=1", "--faults-seed", "5")
    try:
        client = child.client()
        assert outcome_of(client.list_datastores) == "ThrottlingException"
        assert outcome_of(lambda: client.get_datastore(datastoreId="a" * 32)) == "ResourceNotFoundException"
    finally:
        assert child.stop() == 0
    assert "# fault injection: ListDatastores:throttle=1 (--faults-seed 5 reproduces it)" in child.stdout()
    assert "injected throttle into ListDatastores request #0" in child.stderr()


def test_ahi_local_refuses_a_bad_spec_naming_the_problem(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ahi.tui.cli", "local", "--state-dir", str(tmp_path / "state"),
         "--faults", "ListDatastores:throtle=0.1"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 2
    assert "argument --faults: rule 1 ('ListDatastores:throtle=0.1'): unknown fault 'throtle'" in result.stderr
