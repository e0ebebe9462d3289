"""The stored form of a metadata document: gzip-compressed compact JSON, one way in and one way out."""

from __future__ import annotations

import gzip
import json
from typing import Any


def compress_document(document: dict[str, Any]) -> bytes:
    """The stored (and served) form of a metadata document: gzip-compressed compact JSON."""
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode("utf-8"), compresslevel=6)


def decode_document(blob: bytes) -> dict[str, Any]:
    """A stored document, decompressed and parsed."""
    document: dict[str, Any] = json.loads(gzip.decompress(blob))
    return document
