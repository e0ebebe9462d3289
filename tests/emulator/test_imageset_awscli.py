"""The AWS CLI (v1) updates, copies, lists versions of and deletes image sets on the local endpoint.

How CLI v1 takes blob members: it base64-encodes them itself (awscli/clidriver.py says so in its
v2 upgrade warning), so a JSON file for `--update-image-set-metadata-updates` carries the patch as
plain JSON text. The guide's examples put base64 in that file, which is what CLI v2 expects by
default; given to CLI v1 it is encoded twice, and the endpoint says so.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from imageset_flows import import_ct, metadata, new_datastore, wait_unlocked
from test_awscli import as_boto3

pytestmark = pytest.mark.awscli

AWS = Path(sys.executable).with_name("aws")
PATCH = {"SchemaVersion": 1.1, "Patient": {"DICOM": {"PatientName": "Garcia^Gloria"}}}


def aws(*args: str, ok: bool = True) -> Any:
    """`aws medical-imaging ...` in the test environment: parsed JSON output, or stderr when `ok` is False."""
    done = subprocess.run(
        [str(AWS), "medical-imaging", *args, "--output", "json"], capture_output=True, text=True, timeout=60
    )
    if not ok:
        assert done.returncode != 0, done.stdout
        return done.stderr
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_update_copy_versions_and_delete_with_the_cli(aws_env: dict[str, str], mi: Any, s3: Any, tmp_path: Path) -> None:
    datastore_id = new_datastore(mi)
    image_set_id = import_ct(mi, s3, datastore_id)
    ids = ("--datastore-id", datastore_id)

    updates = tmp_path / "metadata-updates.json"
    updates.write_text(json.dumps({"DICOMUpdates": {"updatableAttributes": json.dumps(PATCH)}}))
    updated = aws("update-image-set-metadata", *ids, "--image-set-id", image_set_id, "--latest-version-id", "1",
                  "--update-image-set-metadata-updates", f"file://{updates}")
    assert (updated["latestVersionId"], updated["imageSetState"], updated["imageSetWorkflowStatus"]) == ("2", "LOCKED", "UPDATING")
    wait_unlocked(mi, datastore_id, image_set_id)
    assert metadata(mi, datastore_id, image_set_id)["Patient"]["DICOM"]["PatientName"] == "Garcia^Gloria"

    guide_style = tmp_path / "guide-updates.json"
    encoded = base64.b64encode(json.dumps(PATCH).encode()).decode()
    guide_style.write_text(json.dumps({"DICOMUpdates": {"updatableAttributes": encoded}}))
    error = aws("update-image-set-metadata", *ids, "--image-set-id", image_set_id, "--latest-version-id", "2",
                "--update-image-set-metadata-updates", f"file://{guide_style}", ok=False)
    assert "ValidationException" in error and "base64-encoded twice" in error

    copied = aws("copy-image-set", *ids, "--source-image-set-id", image_set_id,
                 "--copy-image-set-information", '{"sourceImageSet": {"latestVersionId": "2"}}')
    source, destination = copied["sourceImageSetProperties"], copied["destinationImageSetProperties"]
    assert (source["latestVersionId"], source["imageSetWorkflowStatus"]) == ("2", "COPYING_WITH_READ_ONLY_ACCESS")
    assert (destination["latestVersionId"], destination["imageSetWorkflowStatus"]) == ("1", "COPYING")
    copy_id = destination["imageSetId"]
    assert wait_unlocked(mi, datastore_id, copy_id)["imageSetWorkflowStatus"] == "COPIED"
    wait_unlocked(mi, datastore_id, image_set_id)

    versions = aws("list-image-set-versions", *ids, "--image-set-id", image_set_id)
    assert [(v["versionId"], v["ImageSetWorkflowStatus"]) for v in versions["imageSetPropertiesList"]] == [
        ("2", "UPDATED"), ("1", "CREATED"),
    ]
    boto3_versions = mi.list_image_set_versions(datastoreId=datastore_id, imageSetId=image_set_id)
    assert as_boto3(versions)["imageSetPropertiesList"] == boto3_versions["imageSetPropertiesList"]
    first = aws("get-image-set", *ids, "--image-set-id", image_set_id, "--version-id", "1")
    assert (first["versionId"], first["imageSetWorkflowStatus"]) == ("1", "CREATED")

    for each in (image_set_id, copy_id):
        deleted = aws("delete-image-set", *ids, "--image-set-id", each)
        assert deleted == {"datastoreId": datastore_id, "imageSetId": each, "imageSetState": "LOCKED",
                           "imageSetWorkflowStatus": "DELETING"}
    for each in (image_set_id, copy_id):
        assert wait_unlocked(mi, datastore_id, each)["imageSetState"] == "DELETED"
    again = aws("delete-image-set", *ids, "--image-set-id", copy_id, ok=False)
    assert "ConflictException" in again
