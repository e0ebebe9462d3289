"""Completions for a half-typed S3 URI: bucket names, then the folders under what is typed (docs/console-help.md).

One lister per form: each bucket listing and each folder listing is asked once and kept, so typing
on does not call S3 per key. A bucket the caller cannot list (denied, missing) completes to nothing.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

SCHEME = "s3://"
#: Folders read under one prefix at most (one ListObjectsV2 page): enough to complete by, never a crawl.
MAX_FOLDERS = 1000


class S3PrefixLister:
    """`complete(text)`: the S3 URIs (buckets and folders, each ending in `/`) that extend `text`, sorted."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3
        self._buckets: list[str] | None = None
        self._folders: dict[tuple[str, str], list[str]] = {}
        self._lock = threading.Lock()

    def complete(self, text: str) -> list[str]:
        """Blocking (calls S3 on a first look): run it off the UI thread."""
        if not text.startswith(SCHEME):
            return [SCHEME] if SCHEME.startswith(text) and text != SCHEME else []
        bucket, slash, key = text[len(SCHEME) :].partition("/")
        if not slash:
            return [f"{SCHEME}{name}/" for name in self.buckets() if name.startswith(bucket)]
        parent = key[: key.rfind("/") + 1]
        return [f"{SCHEME}{bucket}/{folder}" for folder in self.folders(bucket, parent) if folder.startswith(key)]

    def buckets(self) -> list[str]:
        with self._lock:
            if self._buckets is None:
                try:
                    self._buckets = sorted(b["Name"] for b in self.s3.list_buckets().get("Buckets", []))
                except (BotoCoreError, ClientError):
                    self._buckets = []
            return self._buckets

    def folders(self, bucket: str, prefix: str) -> list[str]:
        """The common prefixes directly under `prefix` (each ending in `/`)."""
        with self._lock:
            cached = self._folders.get((bucket, prefix))
            if cached is None:
                try:
                    page = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/", MaxKeys=MAX_FOLDERS)
                    cached = sorted(p["Prefix"] for p in page.get("CommonPrefixes", []))
                except (BotoCoreError, ClientError):
                    cached = []
                self._folders[(bucket, prefix)] = cached
            return cached
