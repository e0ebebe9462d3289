"""The AWS CLI, configured only by the environment `ahi local` prints, gets the answers boto3 gets."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from datastore_waits import wait_for_status

pytestmark = pytest.mark.awscli

AWS = Path(sys.executable).with_name("aws")


def aws(*args: str) -> Any:
    """Run `aws medical-imaging ...` with the test environment; its parsed JSON output."""
    done = subprocess.run(
        [str(AWS), "medical-imaging", *args, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def as_boto3(value: Any, key: str = "") -> Any:
    """CLI JSON with its timestamps (`...At`, epoch seconds as sent) as datetimes, to compare with boto3."""
    if isinstance(value, dict):
        return {name: as_boto3(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [as_boto3(item) for item in value]
    if key.endswith("At") and isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    return value


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def test_cli_and_boto3_agree(aws_env: dict[str, str], mi: Any) -> None:
    created = aws("create-datastore", "--datastore-name", "cli-store", "--tags", '{"Deployment":"Development"}')
    assert created["datastoreStatus"] == "CREATING"
    datastore_id = created["datastoreId"]
    boto3_store = mi.create_datastore(datastoreName="boto3-store")
    wait_for_status(mi, datastore_id, "ACTIVE")
    wait_for_status(mi, boto3_store["datastoreId"], "ACTIVE")
    got = aws("get-datastore", "--datastore-id", datastore_id)
    created_at = got["datastoreProperties"]["createdAt"]
    assert round(created_at, 3) == created_at, "timestamps carry milliseconds, like the service's"
    assert as_boto3(got) == without_metadata(mi.get_datastore(datastoreId=datastore_id))
    assert got["datastoreProperties"]["datastoreName"] == "cli-store"

    listed = aws("list-datastores")
    assert as_boto3(listed) == without_metadata(mi.list_datastores())
    assert [s["datastoreId"] for s in listed["datastoreSummaries"]] == [datastore_id, boto3_store["datastoreId"]]

    arn = got["datastoreProperties"]["datastoreArn"]
    assert aws("tag-resource", "--resource-arn", arn, "--tags", '{"Owner":"cli"}') == {}
    tags = aws("list-tags-for-resource", "--resource-arn", arn)
    assert tags == without_metadata(mi.list_tags_for_resource(resourceArn=arn))
    assert tags == {"tags": {"Deployment": "Development", "Owner": "cli"}}


def test_cli_reports_service_errors(aws_env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(AWS), "medical-imaging", "get-datastore", "--datastore-id", "0" * 32],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ResourceNotFoundException" in done.stderr and "0" * 32 in done.stderr
