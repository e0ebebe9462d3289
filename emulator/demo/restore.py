"""Bring the demo world's S3 and KMS part back when the endpoint starts on an existing state directory.

moto keeps S3 and KMS in memory. The saved local world (docs/local-world.md) puts back what was saved;
for a state directory without it, or a demo key or bucket it lacks, this re-creates the demo's part
out of the SQLite state (data stores, jobs, image sets). The demo data stores carry the `ahi-demo` tag;
with them and their jobs we re-create what the seed made, identically: the KMS keys under their
recorded key ids (so kmsKeyArn still resolves, the disabled one disabled again), the input bucket
with its deterministic files, and the output bucket with every completed job's manifest and ndjson
files rewritten from the job's records. The bucket a demo job was meant to miss stays missing.
"""

from __future__ import annotations

import logging
import sqlite3

from moto.kms.models import kms_backends
from moto.s3.models import s3_backends

from ahi.emulator.demo import world
from ahi.emulator.imports.outputs import output_files
from ahi.emulator.imports.s3io import S3Location
from ahi.emulator.kms import KMS_ARN
from ahi.emulator.store import import_jobs
from ahi.emulator.store.db import Store
from ahi.emulator.store.imagesets import image_sets_of_job

log = logging.getLogger("ahi.emulator.demo")


def _restore_key(arn: str, key: world.DemoKey) -> None:
    """Re-create a demo key under its recorded id (moto mints ids itself, so the new key is re-keyed)."""
    match = KMS_ARN.fullmatch(arn)
    if match is None or match["kind"] != "key":
        return
    backend = kms_backends[match["account"]][match["region"]]
    key_id = match["name"]
    if key_id in backend.keys:
        return
    created = backend.create_key(
        policy=None, key_usage="ENCRYPT_DECRYPT", key_spec="SYMMETRIC_DEFAULT", description=key.description, tags=None
    )
    backend.keys.pop(created.id)
    created.id, created.arn = key_id, arn
    backend.keys[key_id] = created
    if backend.get_key_id_from_alias(key.alias) is None:
        backend.create_alias(key_id, key.alias)
    if not key.enabled:
        backend.disable_key(key_id)


def _restore_buckets(conn: sqlite3.Connection, account_id: str, region: str, datastore_ids: list[str]) -> None:
    backend = s3_backends[account_id]["aws"]
    if world.INPUT_BUCKET not in s3_backends.bucket_accounts:
        backend.create_bucket(world.INPUT_BUCKET, region)
        for folder in world.INPUT_FOLDERS:
            for name, data in folder.files():
                backend.put_object(world.INPUT_BUCKET, folder.prefix + name, data)
    if world.OUTPUT_BUCKET in s3_backends.bucket_accounts:
        return
    backend.create_bucket(world.OUTPUT_BUCKET, region)
    for datastore_id in datastore_ids:
        for job in import_jobs.list_jobs(conn, datastore_id, status="COMPLETED", before_seq=None, limit=1000):
            folder = S3Location.parse(job.output_s3_uri)
            if folder.bucket != world.OUTPUT_BUCKET:
                continue
            records = import_jobs.file_records(conn, job.job_id)
            for name, body in output_files(job, records, image_sets_of_job(conn, job.job_id)).items():
                backend.put_object(world.OUTPUT_BUCKET, folder.prefix + name, body)


def restore_demo_world(store: Store) -> bool:
    """Re-create the demo's keys and buckets that moto lost; True when this state holds a demo world."""
    with store.read() as conn:
        stores = world.demo_datastores(conn)
        if not stores:
            return False
        for row in stores:
            key = world.KEY_OF_DATASTORE.get(row.name)
            if row.kms_key_arn and key is not None:
                _restore_key(row.kms_key_arn, key)
        first = stores[0]
        _restore_buckets(conn, first.account_id, first.region, [row.datastore_id for row in stores])
    log.info("demo world: S3 buckets and KMS keys are in place")
    return True
