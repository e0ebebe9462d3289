"""Size and last-modified of a job's input objects, looked up on demand (HeadObject), in small parallel batches, cached.

A failure file may name 50,000 inputs; a screen asks only for the rows it shows, so nothing is
fetched upfront.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ahi.services.s3_location import S3Problem, S3ProblemKind, S3Uri, is_s3_failure

#: Parallel HeadObject calls per batch; botocore's default pool has 10 connections.
HEAD_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What HeadObject says about one input object."""

    uri: S3Uri
    size: int
    last_modified: datetime | None


ObjectLookup = ObjectInfo | S3Problem


def input_key(input_prefix: S3Uri, input_file: str) -> str:
    """The key in the input bucket that an `inputFile` names.

    The guide's failure example gives the whole key (input prefix included); its success example uses a
    path that does not start with the prefix, which can only be relative to it.
    """
    prefix = input_prefix.as_prefix().key
    return input_file if input_file.startswith(prefix) else prefix + input_file.lstrip("/")


def candidate_keys(input_prefix: S3Uri, input_file: str) -> list[str]:
    """The keys to try for an `inputFile`, most likely first (the literal value is the fallback)."""
    resolved = input_key(input_prefix, input_file)
    return [resolved] if resolved == input_file else [resolved, input_file]


class InputObjects:
    """HeadObject lookups of `inputFile` values below one input prefix, cached by `inputFile`."""

    def __init__(self, s3: Any, input_uri: S3Uri, concurrency: int = HEAD_CONCURRENCY) -> None:
        self._s3 = s3
        self.input_uri = input_uri.as_prefix()
        self._concurrency = concurrency
        self._cache: dict[str, ObjectLookup] = {}
        self._lock = threading.Lock()

    def cached(self, input_file: str) -> ObjectLookup | None:
        """The lookup if it was already made, without any S3 call."""
        return self._cache.get(input_file)

    def lookup(self, input_files: Iterable[str]) -> dict[str, ObjectLookup]:
        """Look up each file once (already known ones come from the cache); never raises for S3 failures."""
        wanted = list(dict.fromkeys(input_files))
        missing = [f for f in wanted if f not in self._cache]
        if len(missing) == 1:
            self._store(missing[0], self._head(missing[0]))
        elif missing:
            with ThreadPoolExecutor(max_workers=min(self._concurrency, len(missing))) as pool:
                for name, result in zip(missing, pool.map(self._head, missing)):
                    self._store(name, result)
        return {f: self._cache[f] for f in wanted}

    def _store(self, input_file: str, result: ObjectLookup) -> None:
        with self._lock:
            self._cache[input_file] = result

    def _head(self, input_file: str) -> ObjectLookup:
        problem: S3Problem | None = None
        for key in candidate_keys(self.input_uri, input_file):
            uri = S3Uri(self.input_uri.bucket, key)
            try:
                response = self._s3.head_object(Bucket=uri.bucket, Key=uri.key)
            except Exception as exc:  # noqa: BLE001
                if not is_s3_failure(exc):
                    raise
                found = S3Problem.from_exception(exc, str(uri))
                problem = problem or found
                if found.kind is not S3ProblemKind.MISSING:
                    return found
                continue
            return ObjectInfo(uri, int(response.get("ContentLength", 0)), response.get("LastModified"))
        assert problem is not None
        return problem
