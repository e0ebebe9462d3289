"""The call log: every call with duration and outcome, and a CLI line that runs and leaks no values."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ahi.emulator.errors import ThrottlingException
from ahi.services.datastores import CreateDatastoreRequest
from ahi.services.connection import Connection
from ahi.services.session import AwsSession

AWS = Path(sys.executable).with_name("aws")
SECRET_VALUE = "patient-jane-doe"


def test_each_call_is_recorded_with_outcome_and_cli_line(hub: Connection, aws: AwsSession) -> None:
    hub.datastores.list()
    record = aws.call_log.records()[-1]
    assert (record.service, record.operation, record.outcome) == ("medical-imaging", "ListDatastores", "OK")
    assert record.duration_s > 0
    assert record.cli_command.startswith("aws medical-imaging list-datastores ")
    assert f"--endpoint-url {aws.endpoint_url}" in record.cli_command
    assert "--region us-east-1" in record.cli_command


def test_tag_values_and_names_never_reach_the_log(hub: Connection, aws: AwsSession) -> None:
    datastore_id, _ = hub.datastores.create(
        CreateDatastoreRequest(name="ward-7-secret", tags={"patient": SECRET_VALUE})
    )
    arn = f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{datastore_id}"
    hub.tags.tag(arn, {"owner": SECRET_VALUE})
    hub.tags.untag(arn, ["owner"])
    lines = [record.cli_command for record in aws.call_log.records()]
    assert len(lines) == 3
    assert not any(SECRET_VALUE in line or "ward-7-secret" in line for line in lines)
    assert "--tags '<omitted>'" in lines[1] and f"--resource-arn {arn}" in lines[1]


def test_failures_are_recorded_with_their_error_code(hub: Connection, aws: AwsSession) -> None:
    with pytest.raises(Exception):
        hub.datastores.get("f" * 32)
    assert aws.call_log.records()[-1].outcome == "ResourceNotFoundException"


def test_retries_are_counted(endpoint, aws_env, replace_handler) -> None:  # type: ignore[no-untyped-def]
    from ahi.services.session import ConnectionSettings

    session = AwsSession(ConnectionSettings(region="us-east-1", endpoint_url=endpoint.url, local_credentials=True, max_attempts=2))

    def throttled(ctx, params):  # type: ignore[no-untyped-def]
        raise ThrottlingException("Rate exceeded")

    replace_handler("ListDatastores", throttled)
    with pytest.raises(Exception):
        session.medical_imaging.list_datastores()
    record = session.call_log.records()[-1]
    assert (record.outcome, record.retries) == ("ThrottlingException", 1)


@pytest.mark.awscli
def test_the_logged_command_line_runs_with_the_aws_cli(hub: Connection, aws: AwsSession) -> None:
    datastore_id, _ = hub.datastores.create(CreateDatastoreRequest(name="cli-check"))
    hub.datastores.get(datastore_id)
    hub.datastores.list(page_size=5)
    get_line, list_line = (record.cli_command for record in aws.call_log.records()[-2:])
    for line, check in ((get_line, lambda out: out["datastoreProperties"]["datastoreId"] == datastore_id),
                        (list_line, lambda out: [s["datastoreId"] for s in out["datastoreSummaries"]] == [datastore_id])):
        words = shlex.split(line)
        assert words[0] == "aws"
        done = subprocess.run([str(AWS), *words[1:], "--output", "json"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert check(json.loads(done.stdout)), line


def test_listeners_hear_every_record(hub: Connection, aws: AwsSession) -> None:
    heard = []
    unsubscribe = aws.call_log.subscribe(heard.append)
    hub.datastores.list()
    unsubscribe()
    hub.datastores.list()
    assert [record.operation for record in heard] == ["ListDatastores"]
