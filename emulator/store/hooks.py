"""Where image-set tables (added by later migrations) plug into data store and tag logic.

The image-set module registers two functions at import; until it does, no image set exists,
so every image set ARN is unknown and every data store is empty.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from ahi.emulator.arns import ResourceArn

#: (conn, parsed image set ARN, now) -> whether that image set exists and can carry tags.
ImageSetExists = Callable[[sqlite3.Connection, ResourceArn, float], bool]
#: (conn, datastore_id) -> how many image sets of the data store are not deleted.
LiveImageSetCounter = Callable[[sqlite3.Connection, str], int]

_image_set_exists: ImageSetExists | None = None
_live_image_set_counter: LiveImageSetCounter | None = None


def register_image_set_hooks(exists: ImageSetExists, count_live: LiveImageSetCounter) -> None:
    """Install the image-set lookups (called once by the image-set store module)."""
    global _image_set_exists, _live_image_set_counter
    _image_set_exists, _live_image_set_counter = exists, count_live


def image_set_exists(conn: sqlite3.Connection, arn: ResourceArn, now: float) -> bool:
    """Whether an image set ARN names a live image set (False while no image-set table exists)."""
    return _image_set_exists is not None and _image_set_exists(conn, arn, now)


def count_live_image_sets(conn: sqlite3.Connection, datastore_id: str) -> int:
    """Image sets a data store still holds; DeleteDatastore refuses while this is above 0."""
    return 0 if _live_image_set_counter is None else _live_image_set_counter(conn, datastore_id)
