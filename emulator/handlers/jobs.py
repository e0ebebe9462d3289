"""StartDICOMImportJob, GetDICOMImportJob and ListDICOMImportJobs.

Choices where the guide is silent (docs/service.md#import-jobs):
- a job without `jobName` is named by its job id (the model requires a name in every response);
- ListDICOMImportJobs lists newest first;
- the data store must be ACTIVE: an unknown or DELETED one is ResourceNotFoundException, one that is
  CREATING, DELETING or CREATE_FAILED is ConflictException;
- S3 problems (missing bucket or prefix, wrong inputOwnerAccountId) are found by the job, which then
  ends FAILED with a message naming the bucket, as the service's asynchronous job would;
- an input URI without a trailing `/` names the folder of that name (`s3://b/dicom` reads `dicom/...`);
- `importConfiguration` is kept with the job, given back by GetDICOMImportJob (not by the list, whose
  summaries have no such field) and applied by the job (docs/import-configuration.md).
"""

from __future__ import annotations

from typing import Any

from ahi.emulator.context import RequestContext
from ahi.emulator.events.details import job_changed
from ahi.emulator.errors import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from ahi.emulator.handlers.datastores import load_active_datastore, load_datastore
from ahi.emulator.ids import new_id
from ahi.emulator.imports.metadata_mappings import check_configuration
from ahi.emulator.imports.outputs import job_folder
from ahi.emulator.pagination import paginate
from ahi.emulator.store import import_configurations, import_jobs, tokens
from ahi.emulator.store.import_jobs import ImportJob
from ahi.emulator.timestamps import to_datetime

LIST_PAGE_SIZE = 50
#: docs/service.md#quotas: concurrent import jobs per data store (ap-southeast-2 has 20; we serve one quota).
MAX_CONCURRENT_JOBS = 100


def _summary(job: ImportJob) -> dict[str, Any]:
    summary = {
        "jobId": job.job_id,
        "jobName": job.job_name,
        "jobStatus": job.status,
        "datastoreId": job.datastore_id,
        "dataAccessRoleArn": job.data_access_role_arn,
        "endedAt": to_datetime(job.ended_at),
        "submittedAt": to_datetime(job.submitted_at),
        "message": job.message,
    }
    return {name: value for name, value in summary.items() if value is not None}


def _properties(job: ImportJob) -> dict[str, Any]:
    properties = _summary(job)
    properties["inputS3Uri"] = job.input_s3_uri
    properties["outputS3Uri"] = job.output_s3_uri
    return properties


def _active_datastore(ctx: RequestContext, conn: Any, datastore_id: str) -> None:
    load_active_datastore(ctx, conn, datastore_id, "import jobs can only be started on an ACTIVE data store")


def start_dicom_import_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    configuration = check_configuration(params.get("importConfiguration"))
    request = {
        name: params.get(name)
        for name in ("jobName", "dataAccessRoleArn", "datastoreId", "inputS3Uri", "outputS3Uri", "inputOwnerAccountId")
    }
    if configuration is not None:
        request["importConfiguration"] = configuration
    fingerprint = tokens.fingerprint(request)
    runtime = ctx.runtime
    with runtime.store.transaction() as tx:
        now = runtime.now()
        earlier = tokens.find_token(tx, ctx.account_id, ctx.region, ctx.operation, params["clientToken"])
        if earlier is not None:
            earlier_fingerprint, job_id = earlier
            if earlier_fingerprint != fingerprint:
                raise ConflictException(
                    f"clientToken {params['clientToken']} was already used by a StartDICOMImportJob request with "
                    "different parameters; use a new clientToken"
                )
            existing = import_jobs.get_job(tx, job_id)
            assert existing is not None
            return {
                "datastoreId": existing.datastore_id,
                "jobId": existing.job_id,
                "jobStatus": existing.status,
                "submittedAt": to_datetime(existing.submitted_at),
            }
        _active_datastore(ctx, tx, params["datastoreId"])
        running = import_jobs.count_unfinished(tx, params["datastoreId"])
        if running >= MAX_CONCURRENT_JOBS:
            raise ServiceQuotaExceededException(
                f"Data store {params['datastoreId']} already runs {running} import jobs, the quota of concurrent "
                "import jobs per data store; wait for one to end"
            )
        job_id = new_id()
        job = ImportJob(
            seq=0,
            job_id=job_id,
            datastore_id=params["datastoreId"],
            account_id=ctx.account_id,
            region=ctx.region,
            job_name=params.get("jobName") or job_id,
            status="SUBMITTED",
            data_access_role_arn=params["dataAccessRoleArn"],
            input_s3_uri=params["inputS3Uri"],
            output_s3_uri=job_folder(params["outputS3Uri"], params["datastoreId"], job_id),
            input_owner_account_id=params.get("inputOwnerAccountId"),
            submitted_at=now,
            started_at=None,
            ended_at=None,
            message=None,
        )
        import_jobs.insert_job(tx, job)
        if configuration is not None:
            import_configurations.save_configuration(tx, job_id, configuration)
        tokens.record_token(
            tx, ctx.account_id, ctx.region, ctx.operation, params["clientToken"], fingerprint, job_id, now
        )
    job_changed(job, "SUBMITTED")
    runtime.imports.start(job_id)
    return {"datastoreId": job.datastore_id, "jobId": job_id, "jobStatus": "SUBMITTED", "submittedAt": to_datetime(now)}


def _load_job(ctx: RequestContext, conn: Any, datastore_id: str, job_id: str) -> ImportJob:
    load_datastore(ctx, conn, datastore_id)
    job = import_jobs.get_job(conn, job_id)
    if job is None or (job.account_id, job.region, job.datastore_id) != (ctx.account_id, ctx.region, datastore_id):
        raise ResourceNotFoundException(f"Import job {job_id} does not exist in data store {datastore_id}")
    return job


def get_dicom_import_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.runtime.store.read() as conn:
        job = _load_job(ctx, conn, params["datastoreId"], params["jobId"])
        configuration = import_configurations.get_configuration(conn, job.job_id)
    properties = _properties(job)
    if configuration is not None:
        properties["importConfiguration"] = configuration
    return {"jobProperties": properties}


def list_dicom_import_jobs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    datastore_id = params["datastoreId"]
    status = params.get("jobStatus")
    with ctx.runtime.store.read() as conn:
        load_datastore(ctx, conn, datastore_id)
        page, next_token = paginate(
            ctx,
            params,
            filters={"datastoreId": datastore_id, "jobStatus": status},
            fetch=lambda after, limit: import_jobs.list_jobs(
                conn, datastore_id, status=status, before_seq=None if after is None else int(after[0]), limit=limit
            ),
            key=lambda job: [job.seq],
            default_size=LIST_PAGE_SIZE,
        )
    output: dict[str, Any] = {"jobSummaries": [_summary(job) for job in page]}
    if next_token is not None:
        output["nextToken"] = next_token
    return output
