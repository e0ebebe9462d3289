"""The import's view of S3: moto's in-process backend, reached the way the service's role would.

moto's internal API (`s3_backends`, `FakeBucket.keys`) is why moto is pinned exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ahi.emulator.dicom.source import CHUNK_BYTES, spooled

if TYPE_CHECKING:
    from moto.s3.models import FakeBucket


def _s3_backends() -> Any:
    """moto's S3 backends, imported on first use: moto loads on first need (emulator/moto_world.py)."""
    from moto.s3.models import s3_backends

    return s3_backends


class S3AccessError(Exception):
    """The job cannot use an S3 location; the message names the bucket and what is wrong."""


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix, parsed from an s3:// URI."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """Split `s3://bucket/prefix` (the model's pattern has already checked the form)."""
        rest = uri[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(bucket, prefix)

    def uri(self, suffix: str = "") -> str:
        """The s3:// URI of this prefix plus `suffix`."""
        return f"s3://{self.bucket}/{self.prefix}{suffix}"


@dataclass(frozen=True)
class InputObject:
    """One object under the input prefix."""

    key: str
    size: int


def _is_object(value: object) -> bool:
    """An object, not a folder of versions or a delete marker."""
    from moto.s3.models import FakeKey

    return isinstance(value, FakeKey)


def _bucket(name: str, role: str) -> tuple[FakeBucket, str]:
    """The bucket and its owner account, or S3AccessError naming the bucket."""
    s3_backends = _s3_backends()
    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        raise S3AccessError(f"The {role} bucket {name} does not exist or is not accessible")
    partition, account_id = owner
    bucket = s3_backends[account_id][partition].buckets.get(name)
    if bucket is None:
        raise S3AccessError(f"The {role} bucket {name} does not exist or is not accessible")
    return bucket, account_id


def bucket_owner(name: str, role: str) -> str:
    """The account that owns a bucket."""
    return _bucket(name, role)[1]


def list_input(location: S3Location) -> list[InputObject]:
    """Every object under the prefix, nested folders included, in key order; folder markers skipped."""
    bucket, _ = _bucket(location.bucket, "input")
    found = []
    for key in list(bucket.keys.keys()):
        if not key.startswith(location.prefix) or key.endswith("/"):
            continue
        value = bucket.keys.get(key)
        if _is_object(value):
            found.append(InputObject(key, int(value.size)))
    found.sort(key=lambda item: item.key)
    return found


def open_object(bucket_name: str, key: str, limit: int) -> IO[bytes]:
    """An input object's bytes in a spooled file (disk beyond a few MB), copied chunk by chunk.

    moto keeps each object in its own spooled buffer guarded by the key's lock (`FakeKey._value_buffer`,
    `FakeKey.lock`: internal API, hence the exact moto pin); copying under that lock never holds more
    than one chunk in memory, where `FakeKey.value` would copy the whole object twice.
    """
    bucket, _ = _bucket(bucket_name, "input")
    value = bucket.keys.get(key)
    if not _is_object(value):
        raise S3AccessError(f"The input object s3://{bucket_name}/{key} disappeared while the job ran")
    target = spooled()
    try:
        with value.lock:
            buffer = value._value_buffer
            buffer.seek(0)
            copied = 0
            while chunk := buffer.read(CHUNK_BYTES):
                copied += len(chunk)
                if copied > limit:
                    raise ObjectTooLarge(copied)
                target.write(chunk)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target


class ObjectTooLarge(Exception):
    """The object grew past the file size quota after it was listed."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def check_writable(bucket_name: str) -> None:
    """The output bucket must exist (the job writes its manifest and ndjson files there)."""
    _bucket(bucket_name, "output")


def write_object(bucket_name: str, key: str, body: bytes) -> None:
    """Put one output object, as the service's role would; saved with the local world (docs/local-world.md)."""
    from ahi.emulator.world.persisted import s3_write_in_process

    with s3_write_in_process(bucket_name, key):
        _, account_id = _bucket(bucket_name, "output")
        s3_backends = _s3_backends()
        partition = s3_backends.bucket_accounts[bucket_name][0]
        s3_backends[account_id][partition].put_object(bucket_name, key, body)
