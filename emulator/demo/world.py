"""What the demo world holds: buckets, input folders, keys, data stores and jobs, by fixed names.

Shared by the seed (which creates it through the public API) and the restore (which brings moto's
in-memory part back after the endpoint restarts on an existing state directory). The files are
made on demand: every endpoint start imports this module, and pydicom and numpy would add most of
a second to it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

    from ahi.emulator.demo.phantoms import PhantomFile
    from ahi.emulator.store.datastores import Datastore

INPUT_BUCKET = "ahi-demo-input"
OUTPUT_BUCKET = "ahi-demo-output"
MISSING_BUCKET = "ahi-demo-missing-input"
ROLE_ARN = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
#: The tag every demo data store carries; the restore finds the demo world by it.
DEMO_TAG = "ahi-demo"
DEMO_TAG_VALUE = "seeded"


def clean_files() -> list[PhantomFile]:
    """Synthetic studies that import without a single failure."""
    from ahi.emulator.demo import phantoms

    return (
        phantoms.ct_series(24, 512)
        + phantoms.mr_series(12, 256)
        + phantoms.ultrasound_rgb()
        + phantoms.multiframe_cine()
    )


def pydicom_sample_files() -> list[PhantomFile]:
    """pydicom's bundled test files, nested folders kept (many import, many fail for good reasons)."""
    import pydicom.data

    root = Path(pydicom.data.__file__).parent
    return [
        (f"pydicom/{Path(path).relative_to(root)}", Path(path).read_bytes())
        for path in sorted(pydicom.data.get_testdata_files())
        if os.path.isfile(path)
    ]


def mixed_files() -> list[PhantomFile]:
    """A batch with broken files (not DICOM, truncated, unsupported syntax, ...) and a split series."""
    from ahi.emulator.demo import phantoms

    return phantoms.broken_files() + phantoms.split_series() + pydicom_sample_files()


@dataclass(frozen=True)
class InputFolder:
    """A prefix of the demo input bucket and the files it holds."""

    prefix: str
    files: Callable[[], list[PhantomFile]]


INPUT_FOLDERS = (InputFolder("clean/", clean_files), InputFolder("mixed/", mixed_files))


@dataclass(frozen=True)
class DemoKey:
    """A KMS key of the demo: its alias and whether it is enabled."""

    alias: str
    description: str
    enabled: bool


CUSTOMER_KEY = DemoKey("alias/ahi-demo-imaging", "ahi demo: customer managed key", True)
DISABLED_KEY = DemoKey("alias/ahi-demo-disabled", "ahi demo: disabled key (its data store fails to create)", False)


@dataclass(frozen=True)
class DemoDatastore:
    """A demo data store: name, which key (None: the AWS-owned key) and tags."""

    name: str
    key: DemoKey | None
    tags: dict[str, str]


DATASTORES = (
    DemoDatastore("demo-imaging", CUSTOMER_KEY, {"Environment": "demo", "CostCenter": "radiology"}),
    DemoDatastore("demo-aws-owned-key", None, {"Environment": "demo"}),
    DemoDatastore("demo-disabled-key", DISABLED_KEY, {"Environment": "demo"}),
)
KEY_OF_DATASTORE = {store.name: store.key for store in DATASTORES}


@dataclass(frozen=True)
class DemoJob:
    """A demo import: its name, target data store and input location."""

    name: str
    datastore: str
    input_uri: str


JOBS = (
    DemoJob("demo-clean-studies", "demo-imaging", f"s3://{INPUT_BUCKET}/clean/"),
    DemoJob("demo-mixed-batch", "demo-aws-owned-key", f"s3://{INPUT_BUCKET}/mixed/"),
    DemoJob("demo-missing-bucket", "demo-imaging", f"s3://{MISSING_BUCKET}/dicom/"),
)
OUTPUT_URI = f"s3://{OUTPUT_BUCKET}/imports/"


def demo_datastores(conn: sqlite3.Connection) -> list[Datastore]:
    """The data stores of an endpoint's own state that carry the demo tag (read in its process, not over the API)."""
    import time

    from ahi.emulator.store.datastores import all_datastores
    from ahi.emulator.store.tags import get_tags

    # Only identity, name and key are read here, so the status instant does not matter.
    return [
        datastore
        for datastore in all_datastores(conn, time.time())
        if get_tags(conn, datastore.arn).get(DEMO_TAG) == DEMO_TAG_VALUE
    ]
