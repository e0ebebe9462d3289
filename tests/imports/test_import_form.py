"""The start-import form: model rules checked before sending; the AWS CLI command starts the same job."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from triage_helpers import INPUT_BUCKET, OUTPUT_BUCKET, ROLE, active_datastore, wait_for_job

from ahi.emulator.demo.phantoms import ct_series
from ahi.services.call_log import CliContext
from ahi.services.import_form import StartImportForm, cli_command, validate

GOOD = StartImportForm(
    datastore_id="d" * 32,
    input_s3_uri=f"s3://{INPUT_BUCKET}/dicom/",
    output_s3_uri=f"s3://{OUTPUT_BUCKET}/out/",
    role_arn=ROLE,
    job_name="weekly-mr",
)


def test_a_good_form_passes_and_builds_the_request() -> None:
    assert validate(GOOD) == []
    request = GOOD.request(client_token="token-1")
    assert request == {"datastoreId": "d" * 32, "inputS3Uri": GOOD.input_s3_uri, "outputS3Uri": GOOD.output_s3_uri,
                       "dataAccessRoleArn": ROLE, "jobName": "weekly-mr", "clientToken": "token-1"}  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("datastore_id", "", "Data store ID (datastoreId): is required"),
        ("datastore_id", "D" * 32, "Data store ID (datastoreId): must match [0-9a-z]{32}"),
        ("input_s3_uri", "https://bucket/x/", "Input S3 URI (inputS3Uri): must match s3://"),
        ("output_s3_uri", "s3://Upper-Case/x/", "Output S3 URI (outputS3Uri): must match s3://"),
        ("role_arn", "arn:aws:iam::123:role/x", "Data access role ARN (dataAccessRoleArn): must match arn:aws"),
        ("role_arn", "short", "Data access role ARN (dataAccessRoleArn): must be at least 20 characters"),
        ("job_name", "has space", "Job name (jobName): must match [A-Za-z0-9._/#-]+"),
        ("job_name", "j" * 65, "Job name (jobName): must be at most 64 characters"),
        ("input_owner_account_id", "12345", "Input owner account ID (inputOwnerAccountId): must be at least 12"),
    ],
)
def test_each_broken_rule_names_the_field_and_the_rule(field: str, value: str, message: str) -> None:
    errors = validate(replace(GOOD, **{field: value}))
    assert {e.field for e in errors} == {field}
    assert errors[0].message.startswith(message)


def test_blank_optional_fields_are_left_out() -> None:
    form = replace(GOOD, job_name="  ")
    assert validate(form) == [] and "jobName" not in form.request()
    assert "--job-name" not in cli_command(form)


@pytest.mark.awscli
def test_the_cli_command_starts_the_same_job(aws_env: dict[str, str], mi: Any, s3: Any, endpoint: Any) -> None:
    for bucket in (INPUT_BUCKET, OUTPUT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    for name, data in ct_series(2, 32):
        s3.put_object(Bucket=INPUT_BUCKET, Key="dicom/" + name, Body=data)
    form = replace(GOOD, datastore_id=active_datastore(mi), job_name="cli copy's job")
    assert [e.field for e in validate(form)] == ["job_name"]
    form = replace(form, job_name="cli-copy")
    command = cli_command(form, CliContext(endpoint_url=endpoint.url, region="us-east-1"))
    assert command.startswith("aws medical-imaging start-dicom-import-job --datastore-id ")
    words = shlex.split(command)
    aws = str(Path(sys.executable).with_name("aws"))
    done = subprocess.run([aws, *words[1:], "--output", "json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    started = json.loads(done.stdout)
    properties = wait_for_job(mi, form.datastore_id, started["jobId"])
    assert (properties["jobName"], properties["inputS3Uri"], properties["dataAccessRoleArn"]) == (
        "cli-copy", form.input_s3_uri, ROLE,
    )  # fmt: skip
    assert properties["jobStatus"] == "COMPLETED"
