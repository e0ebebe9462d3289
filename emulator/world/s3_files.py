"""moto's S3 as files: one for every bucket's settings, one per object key, one per object body.

`buckets.pickle` holds each bucket without its objects (settings, policy, tags, multipart uploads in
progress) plus the bucket-to-account index; `keys/<digest>.pickle` holds one key's versions (metadata
only) and their tags; the bodies live in `bodies/` (emulator/world/blobs.py). A write to one key rewrites that key's
file, so saving a PUT costs the same in a bucket of ten objects or of a million; the bucket file is
rewritten only when its content changed. A key's file is written before the bucket file, so after a
kill the bucket file never names an object whose file is missing.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ahi.emulator.world import codec
from ahi.emulator.world.blobs import Bodies
from ahi.emulator.world.files import drop_partial_files, private_folder, remove_file, write_whole

if TYPE_CHECKING:
    from moto.s3.models import FakeBucket

log = logging.getLogger("ahi.emulator.world")

#: (account id, partition, bucket name): where moto keeps a bucket.
BucketId = tuple[str, str, str]
BUCKETS_FILE = "buckets.pickle"


def _s3_backends() -> Any:
    from moto.s3.models import s3_backends

    return s3_backends


def _same(left: tuple[Any, ...], right: tuple[Any, ...]) -> bool:
    """The same moto objects (identity: a PUT makes a new object, even with the same content)."""
    return len(left) == len(right) and all(a is b for a, b in zip(left, right))


class S3Files:
    """The S3 part of one persisted world, and what of it is on disk."""

    def __init__(self, folder: Path, bodies: Bodies) -> None:
        self.folder = private_folder(folder)
        self.keys_folder = private_folder(folder / "keys")
        for each in (self.folder, self.keys_folder):
            drop_partial_files(each)
        self._bodies = bodies
        self._buckets_data: bytes | None = None
        self._buckets_named: set[str] = set()
        #: bucket -> key -> (the versions on disk, the body files they name).
        self._entries: dict[BucketId, dict[str, tuple[tuple[Any, ...], set[str]]]] = {}
        #: How many saved entries name each body file.
        self._named: Counter[str] = Counter()
        #: Body files an entry stopped naming: removed once nothing names them and moto let their object go.
        self._unnamed: set[str] = set()

    def live_buckets(self) -> dict[BucketId, FakeBucket]:
        """Every bucket moto holds, by account and partition."""
        found = {}
        for account, partitions in list(dict.items(_s3_backends())):
            for partition, backend in list(dict.items(partitions)):
                for name, bucket in list(backend.buckets.items()):
                    found[(account, partition, name)] = bucket
        return found

    def save(self, bucket: str | None, key: str | None) -> None:
        """After a write that named `bucket` (and `key`): that key, or that bucket's changed keys, then the bucket file.

        A bucket that is new or gone is saved whole; a write naming no bucket (None) diffs every bucket.
        """
        live = self.live_buckets()
        for gone in [bucket_id for bucket_id in self._entries if bucket_id not in live]:
            for name in list(self._entries[gone]):
                self._drop(gone, name)
            del self._entries[gone]
        for bucket_id, fake in live.items():
            if bucket_id not in self._entries:
                self._entries[bucket_id] = {}
                self._save_changed(bucket_id, fake)
            elif bucket is None or (bucket_id[2] == bucket and key is None):
                self._save_changed(bucket_id, fake)
            elif bucket_id[2] == bucket and key is not None:
                self._save_key(bucket_id, fake, key, always=True)
        self._save_buckets(live)
        self._unnamed = self._bodies.sweep(self._named, self._unnamed)

    def save_all(self) -> None:
        """Save whatever differs from disk in every bucket (what reached moto without a request)."""
        self.save(None, None)

    def _save_changed(self, bucket_id: BucketId, fake: FakeBucket) -> None:
        entries = self._entries[bucket_id]
        present = list(dict.keys(fake.keys))
        for name in present:
            self._save_key(bucket_id, fake, name, always=False)
        for name in set(entries).difference(present):
            self._drop(bucket_id, name)

    def _save_key(self, bucket_id: BucketId, fake: FakeBucket, name: str, always: bool) -> None:
        versions = tuple(fake.keys.getlist(name, None) or ())
        if not versions:
            self._drop(bucket_id, name)
            return
        entry = self._entries[bucket_id].get(name)
        if entry is not None and not always and _same(entry[0], versions):
            return
        tagger = _s3_backends()[bucket_id[0]][bucket_id[1]].tagger
        tags = {version.arn: tagger.tags[version.arn] for version in versions if tagger.tags.get(getattr(version, "arn", ""))}
        data, named = codec.dumps((bucket_id, name, list(versions), tags), self._bodies)
        write_whole(self._key_path(bucket_id, name), lambda handle: handle.write(data))
        self._remember(bucket_id, name, (versions, named))

    def _drop(self, bucket_id: BucketId, name: str) -> None:
        if name in self._entries.get(bucket_id, {}):
            remove_file(self._key_path(bucket_id, name))
            self._remember(bucket_id, name, None)

    def _remember(self, bucket_id: BucketId, name: str, entry: tuple[tuple[Any, ...], set[str]] | None) -> None:
        entries = self._entries.setdefault(bucket_id, {})
        old = entries.pop(name, None)
        if old is not None:
            self._named.subtract(old[1])
            self._unnamed.update(old[1])
        if entry is not None:
            entries[name] = entry
            self._named.update(entry[1])

    def _save_buckets(self, live: dict[BucketId, FakeBucket]) -> None:
        s3_backends = _s3_backends()
        tags = {}
        for bucket_id, bucket in live.items():
            values = s3_backends[bucket_id[0]][bucket_id[1]].tagger.tags.get(bucket.arn)
            if values:
                tags[bucket_id] = values
        state = {"buckets": live, "bucket_accounts": dict(s3_backends.bucket_accounts), "tags": tags}
        data, named = codec.dumps(state, self._bodies, without_objects=True)
        if data == self._buckets_data:
            return
        write_whole(self.folder / BUCKETS_FILE, lambda handle: handle.write(data))
        self._buckets_data = data
        self._named.subtract(self._buckets_named)
        self._unnamed.update(self._buckets_named)
        self._named.update(named)
        self._buckets_named = named

    @staticmethod
    def _file_name(bucket_id: BucketId, name: str) -> str:
        return hashlib.sha256("\0".join((*bucket_id, name)).encode("utf-8", "surrogatepass")).hexdigest() + ".pickle"

    def _key_path(self, bucket_id: BucketId, name: str) -> Path:
        return self.keys_folder / self._file_name(bucket_id, name)

    def load(self) -> int:
        """Put the saved buckets and objects into moto; a bucket moto already holds keeps its settings. Objects loaded."""
        path = self.folder / BUCKETS_FILE
        if not path.exists():
            return 0
        s3_backends = _s3_backends()
        try:
            state, named = codec.loads(path.read_bytes(), self._bodies)
        except Exception as error:  # noqa: BLE001 - a damaged file (a power cut): S3 starts empty, nothing is removed
            log.error("the saved S3 buckets cannot be read (%s: %s); S3 starts without them", type(error).__name__, error)
            return 0
        buckets: dict[BucketId, FakeBucket] = {}
        for bucket_id, saved in state["buckets"].items():
            account, partition, name = bucket_id
            backend = s3_backends[account][partition]
            buckets[bucket_id] = backend.buckets.setdefault(name, saved)
        for name, owner in state["bucket_accounts"].items():
            s3_backends.bucket_accounts.setdefault(name, owner)
        for bucket_id, values in state["tags"].items():
            s3_backends[bucket_id[0]][bucket_id[1]].tagger.tags.setdefault(buckets[bucket_id].arn, values)
        self._buckets_named = named
        self._named.update(named)
        loaded = 0
        for key_path in self.keys_folder.glob("*.pickle"):
            try:
                (bucket_id, name, versions, tags), entry_named = codec.loads(key_path.read_bytes(), self._bodies)
            except Exception as error:  # noqa: BLE001 - a damaged file (a power cut) loses its object, not the others
                log.error("a saved S3 object (%s) cannot be read (%s: %s); it is left out", key_path.name,
                          type(error).__name__, error)
                continue
            bucket = buckets.get(bucket_id)
            if bucket is None:  # written by a write to a new bucket that a kill stopped before the bucket file
                key_path.unlink()
                continue
            bucket.keys.setlist(name, versions)
            s3_backends[bucket_id[0]][bucket_id[1]].tagger.tags.update(tags)
            self._remember(bucket_id, name, (tuple(versions), entry_named))
            loaded += 1
        self._bodies.remove_unnamed({body for body, count in self._named.items() if count > 0})
        return loaded

    def clear(self) -> None:
        """Forget every bucket and object (moto was reset)."""
        for path in self.keys_folder.glob("*.pickle"):
            path.unlink()
        remove_file(self.folder / BUCKETS_FILE)
        self._entries.clear()
        self._named.clear()
        self._unnamed.clear()
        self._buckets_named = set()
        self._buckets_data = None
        self._bodies.clear()
