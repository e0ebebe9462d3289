"""The start-import form: validation against botocore's model before sending, and the equivalent AWS CLI command."""

from __future__ import annotations

import shlex
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from ahi.services.call_log import CliContext
from ahi.services.validation import member_problems

OPERATION = "StartDICOMImportJob"

#: Form field -> (request member, CLI flag, label).
FIELDS: dict[str, tuple[str, str, str]] = {
    "datastore_id": ("datastoreId", "--datastore-id", "Data store ID"),
    "input_s3_uri": ("inputS3Uri", "--input-s3-uri", "Input S3 URI"),
    "output_s3_uri": ("outputS3Uri", "--output-s3-uri", "Output S3 URI"),
    "role_arn": ("dataAccessRoleArn", "--data-access-role-arn", "Data access role ARN"),
    "job_name": ("jobName", "--job-name", "Job name"),
    "input_owner_account_id": ("inputOwnerAccountId", "--input-owner-account-id", "Input owner account ID"),
}
OPTIONAL_FIELDS = frozenset({"job_name", "input_owner_account_id"})


@dataclass(frozen=True, slots=True)
class StartImportForm:
    """What the operator typed; empty optional fields are left out of the request."""

    datastore_id: str
    input_s3_uri: str
    output_s3_uri: str
    role_arn: str
    job_name: str = ""
    input_owner_account_id: str = ""

    def request(self, client_token: str | None = None) -> dict[str, Any]:
        """Keyword arguments for `start_dicom_import_job`."""
        params = {FIELDS[name][0]: value.strip() for name, value in asdict(self).items() if value.strip()}
        params["clientToken"] = client_token or uuid.uuid4().hex
        return params


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field that breaks a rule, named as on the form and in the API."""

    field: str
    member: str
    rule: str

    @property
    def message(self) -> str:
        return f"{FIELDS[self.field][2]} ({self.member}): {self.rule}"


def validate(form: StartImportForm) -> list[FieldError]:
    """Every rule the form breaks (empty when it can be sent), from the model's lengths and patterns."""
    errors: list[FieldError] = []
    for name, value in asdict(form).items():
        member = FIELDS[name][0]
        value = value.strip()
        if not value:
            if name not in OPTIONAL_FIELDS:
                errors.append(FieldError(name, member, "is required"))
            continue
        errors += [FieldError(name, member, p.rule) for p in member_problems(OPERATION, member, value)]
    return errors


def cli_command(form: StartImportForm, cli: CliContext | None = None) -> str:
    """The `aws medical-imaging start-dicom-import-job` command that starts the same job (the CLI fills the token)."""
    parts = ["aws", "medical-imaging", "start-dicom-import-job"]
    for name, value in asdict(form).items():
        if value.strip():
            parts += [FIELDS[name][1], value.strip()]
    return shlex.join(parts + (cli.flags() if cli else []))
