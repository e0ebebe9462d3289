"""The import input the durability test uses, and the child-side hook that puts it into S3 in every life.

The hook writes straight into moto before the endpoint starts, not through a request, so the saved
world (docs/local-world.md) holds these objects only from the first save after them (a job's first
output). A kill before that would lose them, so each new life of the endpoint puts the same input
objects back before it starts (and before its jobs resume); the saved world, loaded over them, keeps
what was saved, job outputs included.
"""

from __future__ import annotations

from ahi.emulator.demo.phantoms import PhantomFile, ct_series

INPUT_BUCKET = "durable-input"
OUTPUT_BUCKET = "durable-output"
INPUT_PREFIX = "in/"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
SERIES = 3


def input_files() -> list[PhantomFile]:
    """Three small CT series of two slices: three image sets per completed job."""
    return [item for index in range(SERIES) for item in ct_series(2, 32, series_key=f"durable-{index}")]


def put_inputs_into_moto() -> None:
    """Runs in the endpoint's process before it starts: the buckets, and the input objects in place."""
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT_ID]["aws"]
    for bucket in (INPUT_BUCKET, OUTPUT_BUCKET):
        backend.create_bucket(bucket, REGION)
    for name, data in input_files():
        backend.put_object(INPUT_BUCKET, INPUT_PREFIX + name, data)
