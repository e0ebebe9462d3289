"""Shared by the image set write tests: import phantoms through the real pipeline, wait on locks, read metadata."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from datastore_waits import active_datastore, error_of
from import_runs import run_import

from ahi.emulator.demo import phantoms
from ahi.emulator.demo.phantoms import Subject

OTHER_PATIENT = Subject(patient_id="AHI-OTHER-002", patient_name="Other^Patient", study_key="other")


def new_datastore(mi: Any) -> str:
    """An ACTIVE data store's id."""
    return str(active_datastore(mi, datastoreName="imageset-writes")["datastoreId"])


def import_ct(
    mi: Any, s3: Any, datastore_id: str, *, slices: int = 2, subject: Subject = Subject(), series_key: str = "ct"
) -> str:
    """One small CT series imported as one image set; its id."""
    files = phantoms.ct_series(slices, 32, subject=subject, series_key=series_key)
    return str(run_import(mi, s3, datastore_id, files, prefix=f"{subject.patient_id}-{series_key}").only()["imageSetId"])


@pytest.fixture
def image_set(mi: Any, s3: Any) -> tuple[str, str]:
    """(data store id, image set id) of a freshly imported two-instance CT image set."""
    datastore_id = new_datastore(mi)
    return datastore_id, import_ct(mi, s3, datastore_id)


def rejected(call: Any) -> tuple[str, int, str]:
    """(code, HTTP status, message) of the ClientError `call` must raise."""
    with pytest.raises(ClientError) as caught:
        call()
    return error_of(caught)


def wait_unlocked(mi: Any, datastore_id: str, image_set_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll GetImageSet while the image set is LOCKED; the response once it is not."""
    deadline = time.monotonic() + timeout
    while True:
        response = mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)
        if response["imageSetState"] != "LOCKED":
            return response
        assert time.monotonic() < deadline, f"{image_set_id} stayed LOCKED ({response['imageSetWorkflowStatus']})"
        time.sleep(0.01)


def metadata(mi: Any, datastore_id: str, image_set_id: str, **extra: Any) -> dict[str, Any]:
    """GetImageSetMetadata, gunzipped and parsed."""
    response = mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id, **extra)
    return dict(json.loads(gzip.decompress(response["imageSetMetadataBlob"].read())))


def only_series(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(SeriesInstanceUID, series block) of a one-series document."""
    ((series_uid, block),) = document["Study"]["Series"].items()
    return series_uid, block


def dicom_updates(updatable: dict[str, Any] | None = None, removable: dict[str, Any] | None = None) -> dict[str, Any]:
    """updateImageSetMetadataUpdates carrying the patch documents as JSON bytes."""
    updates: dict[str, bytes] = {}
    if updatable is not None:
        updates["updatableAttributes"] = json.dumps({"SchemaVersion": "1.1", **updatable}).encode()
    if removable is not None:
        updates["removableAttributes"] = json.dumps({"SchemaVersion": "1.1", **removable}).encode()
    return {"DICOMUpdates": updates}


def update(mi: Any, datastore_id: str, image_set_id: str, version: str, **patch: Any) -> dict[str, Any]:
    """UpdateImageSetMetadata with `updatable=` / `removable=` patches (plus any other parameters)."""
    extra = {name: patch.pop(name) for name in ("force", "includeStudyImageSets") if name in patch}
    return dict(
        mi.update_image_set_metadata(
            datastoreId=datastore_id,
            imageSetId=image_set_id,
            latestVersionId=version,
            updateImageSetMetadataUpdates=dicom_updates(**patch),
            **extra,
        )
    )


def copy_to_new(mi: Any, datastore_id: str, source_id: str, version: str = "1", **extra: Any) -> str:
    """CopyImageSet into a new image set; waits until the copy settles and returns the new id."""
    response = mi.copy_image_set(
        datastoreId=datastore_id,
        sourceImageSetId=source_id,
        copyImageSetInformation={"sourceImageSet": {"latestVersionId": version}},
        **extra,
    )
    copy_id = str(response["destinationImageSetProperties"]["imageSetId"])
    wait_unlocked(mi, datastore_id, copy_id)
    wait_unlocked(mi, datastore_id, source_id)
    return copy_id
