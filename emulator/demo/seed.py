"""Seed the demo world into a running endpoint, through the public API only (boto3: S3, KMS, medical-imaging).

Deterministic content: the same files, keys, data stores, jobs and tags every time (the service's
own identifiers are random, as on AWS). `seed_demo` waits until every job has ended, so the world
is settled; the background seed (demo/progress.py) calls `start_demo` and `settle_demo` apart and
reports between them, so the console's jobs screen can show the imports running and quitting never
waits for them.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from functools import cached_property, partial
from typing import Any

import boto3
from botocore.config import Config

from ahi.emulator.demo import world

REGION = "us-east-1"
WAIT_SECONDS = 300.0
#: The import jobs a started demo is waiting for: (data store id, job id).
DemoJobs = list[tuple[str, str]]


class _Clients:
    """The seed's boto3 clients for one endpoint, each made on first use (the S3 model is only loaded once the data stores exist)."""

    def __init__(self, endpoint_url: str, loader: Any = None) -> None:
        self._session = boto3.session.Session()
        if loader is not None:  # a botocore loader that has parsed the models already (the console's)
            self._session._session.register_component("data_loader", loader)  # noqa: SLF001
        self._options: dict[str, Any] = {
            "region_name": REGION,
            "endpoint_url": endpoint_url,
            "aws_access_key_id": "AKIDLOCALDEMO",
            "aws_secret_access_key": "local-demo-secret",
            "config": Config(inject_host_prefix=False, retries={"mode": "standard", "max_attempts": 3}),
        }
        self._lock = threading.Lock()

    def _client(self, service: str) -> Any:
        with self._lock:  # a boto3 Session is not safe to share between threads; its clients are
            return self._session.client(service, **self._options)

    @cached_property
    def mi(self) -> Any:
        return self._client("medical-imaging")

    @cached_property
    def s3(self) -> Any:
        return self._client("s3")

    @cached_property
    def kms(self) -> Any:
        return self._client("kms")


def _clients(endpoint_url: str, loader: Any = None) -> _Clients:
    """One set per endpoint (and loader): starting and settling the demo share their clients and loaded models."""
    return _cached_clients(endpoint_url, loader)


@functools.lru_cache(maxsize=8)
def _cached_clients(endpoint_url: str, loader: Any) -> _Clients:
    return _Clients(endpoint_url, loader)


def already_seeded(mi: Any) -> bool:
    """Whether a demo data store exists (seeding twice would duplicate the world)."""
    for page in mi.get_paginator("list_datastores").paginate():
        for store in page["datastoreSummaries"]:
            if store["datastoreStatus"] == "DELETED":
                continue
            tags = mi.list_tags_for_resource(resourceArn=store["datastoreArn"])["tags"]
            if tags.get(world.DEMO_TAG) == world.DEMO_TAG_VALUE:
                return True
    return False


def _wait(poll: Callable[[], str], settled: Callable[[str], bool], what: str) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = poll()
        if settled(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo seed: {what} did not settle")
        time.sleep(0.1)


def _datastore_status(mi: Any, datastore_id: str) -> str:
    return str(mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"])


def _job_status(mi: Any, datastore_id: str, job_id: str) -> str:
    return str(mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"])


def _create_key(kms: Any, key: world.DemoKey) -> str:
    metadata = kms.create_key(Description=key.description, KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")
    key_id = metadata["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=key.alias, TargetKeyId=key_id)
    if not key.enabled:
        kms.disable_key(KeyId=key_id)
    return str(metadata["KeyMetadata"]["Arn"])


def seed_demo(endpoint_url: str) -> bool:
    """Create the demo world at `endpoint_url` and wait until it is settled; False when it is already there."""
    jobs = start_demo(endpoint_url)
    if jobs is None:
        return False
    settle_demo(endpoint_url, jobs)
    return True


def start_demo(endpoint_url: str, on_datastores: Callable[[], None] | None = None) -> DemoJobs | None:
    """Create keys and data stores, then buckets and files, and start the imports, without waiting for them.

    The data stores come first and `on_datastores` is called once they exist. None (and nothing done)
    when the demo world is already there.
    """
    datastore_ids = create_demo_datastores(endpoint_url)
    if datastore_ids is None:
        return None
    if on_datastores is not None:
        on_datastores()
    return start_demo_imports(endpoint_url, datastore_ids)


def create_demo_datastores(endpoint_url: str, loader: Any = None) -> dict[str, str] | None:
    """The demo's KMS keys and data stores (name -> data store id); None (and nothing done) when the demo world is there.

    `ahi --local` calls this from the console, which has boto3 loaded already, while its endpoint
    process makes the studies (docs/startup.md).
    """
    clients = _clients(endpoint_url, loader)
    mi, kms = clients.mi, clients.kms
    if already_seeded(mi):
        return None
    key_arns = {key: _create_key(kms, key) for key in (world.CUSTOMER_KEY, world.DISABLED_KEY)}
    datastore_ids: dict[str, str] = {}
    for store in world.DATASTORES:
        request: dict[str, Any] = {
            "datastoreName": store.name,
            "tags": {world.DEMO_TAG: world.DEMO_TAG_VALUE, **store.tags},
        }
        if store.key is not None:
            request["kmsKeyArn"] = key_arns[store.key]
        datastore_ids[store.name] = mi.create_datastore(**request)["datastoreId"]
    return datastore_ids


def start_demo_imports(endpoint_url: str, datastore_ids: dict[str, str]) -> DemoJobs:
    """Buckets and files of the demo data stores `create_demo_datastores` made, and their imports started."""
    clients = _clients(endpoint_url)
    mi, s3 = clients.mi, clients.s3
    for bucket in (world.INPUT_BUCKET, world.OUTPUT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    for folder in world.INPUT_FOLDERS:
        for name, data in folder.files():
            s3.put_object(Bucket=world.INPUT_BUCKET, Key=folder.prefix + name, Body=data)
    for name, datastore_id in datastore_ids.items():
        _wait(partial(_datastore_status, mi, datastore_id), lambda status: status != "CREATING", f"data store {name}")

    jobs: DemoJobs = []
    for job in world.JOBS:
        datastore_id = datastore_ids[job.datastore]
        started = mi.start_dicom_import_job(
            jobName=job.name,
            datastoreId=datastore_id,
            dataAccessRoleArn=world.ROLE_ARN,
            inputS3Uri=job.input_uri,
            outputS3Uri=world.OUTPUT_URI,
        )
        jobs.append((datastore_id, started["jobId"]))
    return jobs


def settle_demo(endpoint_url: str, jobs: DemoJobs) -> None:
    """Wait for the demo's imports to end, then tag the first image set of the clean one."""
    clients = _clients(endpoint_url)
    mi = clients.mi
    for datastore_id, job_id in jobs:
        _wait(
            partial(_job_status, mi, datastore_id, job_id),
            lambda status: status in ("COMPLETED", "FAILED"),
            f"import job {job_id}",
        )
    _tag_first_image_set(mi, clients.s3, *jobs[0])


def _tag_first_image_set(mi: Any, s3: Any, datastore_id: str, job_id: str) -> None:
    """Tag the clean job's first image set, so image set tags have something to show."""
    properties = mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]
    bucket, _, folder = properties["outputS3Uri"].removeprefix("s3://").partition("/")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=folder + "job-output-manifest.json")["Body"].read())
    summaries = manifest["jobSummary"]["imageSetsSummary"]
    if summaries:
        image_set = mi.get_image_set(datastoreId=datastore_id, imageSetId=summaries[0]["imageSetId"])
        mi.tag_resource(resourceArn=image_set["imageSetArn"], tags={"Review": "pending", "Source": "phantom"})
