"""A fleet on one local endpoint: two regions (the SigV4 scope's region partitions its data), jobs that failed in each.

us-east-1: data store `east-archive` with a clean import and a job whose input bucket does not exist (FAILED);
eu-west-1: data store `west-archive` with a job whose input location holds nothing (FAILED).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from local_endpoints import quick_config, running

from ahi.emulator.demo.phantoms import ct_series
from ahi.emulator.server import LocalEndpoint

EAST, WEST = "us-east-1", "eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"


@dataclass(frozen=True)
class FleetWorld:
    """Job IDs by name, and the data store of each region."""

    stores: dict[str, str]
    jobs: dict[str, str]


def region_clients(endpoint_url: str, region: str, *services: str) -> tuple[Any, ...]:
    """Clients of the endpoint signing for `region` (no retries: a failure shows at once)."""
    options: dict[str, Any] = {
        "region_name": region, "endpoint_url": endpoint_url, "aws_access_key_id": "fleet", "aws_secret_access_key": "fleet",
        "config": Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
    }  # fmt: skip
    return tuple(boto3.client(service, **options) for service in services)  # type: ignore[call-overload]


def _until(condition: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def active_store(mi: Any, name: str) -> str:
    """A new data store, once ACTIVE."""
    datastore_id = str(mi.create_datastore(datastoreName=name, clientToken=name)["datastoreId"])
    _until(lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE", name)
    return datastore_id


def ended_job(mi: Any, datastore_id: str, name: str, input_uri: str) -> str:
    """An import job of `input_uri`, once it has ended."""
    job_id = str(mi.start_dicom_import_job(
        jobName=name, datastoreId=datastore_id, dataAccessRoleArn=ROLE, inputS3Uri=input_uri,
        outputS3Uri="s3://fleet-output/jobs/", clientToken=name,
    )["jobId"])  # fmt: skip
    _until(
        lambda: mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"] in ("COMPLETED", "FAILED"),
        f"job {name} to end",
    )
    return job_id


def build_fleet(endpoint_url: str) -> FleetWorld:
    """Both regions' stores and jobs, every job ended."""
    east_mi, s3 = region_clients(endpoint_url, EAST, "medical-imaging", "s3")
    (west_mi,) = region_clients(endpoint_url, WEST, "medical-imaging")
    for bucket in ("fleet-input", "fleet-output", "fleet-empty"):
        s3.create_bucket(Bucket=bucket)
    for name, data in ct_series(1, 16):
        s3.put_object(Bucket="fleet-input", Key=f"clean/{name}", Body=data)
    stores = {EAST: active_store(east_mi, "east-archive"), WEST: active_store(west_mi, "west-archive")}
    jobs = {
        "east-clean": ended_job(east_mi, stores[EAST], "east-clean", "s3://fleet-input/clean/"),
        "east-missing": ended_job(east_mi, stores[EAST], "east-missing", "s3://no-such-fleet-bucket/in/"),
        "west-empty": ended_job(west_mi, stores[WEST], "west-empty", "s3://fleet-empty/nothing/"),
    }
    return FleetWorld(stores, jobs)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    """One endpoint for a test module (import this fixture with `world`)."""
    with running(quick_config(tmp_path_factory.mktemp("fleet") / "state")) as server:
        yield server


@pytest.fixture(scope="module")
def world(endpoint: LocalEndpoint) -> FleetWorld:
    return build_fleet(endpoint.url)
