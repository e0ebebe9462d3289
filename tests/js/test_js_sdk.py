"""The JavaScript SDK v3 (`@aws-sdk/client-medical-imaging`) through the whole API against the endpoint.

A second SDK besides boto3: its own serializers, signer and parsers meet the endpoint's wire. The
package is pinned in tests/js/package-lock.json and installed by `make setup` (`npm ci`); when
node_modules is missing or older than the lock file, the test installs it itself. Skipped only where
node or npm is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ahi.emulator.demo.phantoms import Subject, ct_series

HERE = Path(__file__).parent
STAMP = HERE / "node_modules" / ".ahi-installed"
ROLE = "arn:aws:iam::123456789012:role/JsSdkImportRole"
SUBJECT = Subject(patient_id="JS-SDK-1", patient_name="Script^Java")
NPM_SECONDS = 300
SCRIPT_SECONDS = 120


def installed_sdk() -> None:
    """`npm ci` when node_modules is absent or older than the lock file (the same step as `make setup`)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the JavaScript SDK test needs Node.js 18 or later")
    lock = HERE / "package-lock.json"
    if STAMP.exists() and STAMP.stat().st_mtime >= lock.stat().st_mtime:
        return
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, timeout=NPM_SECONDS
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    STAMP.touch()


def run_script(env: dict[str, str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["node", str(HERE / "whole_api.mjs")],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_SECONDS,
    )
    steps = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0, f"node exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return steps


def test_javascript_sdk_drives_every_operation(endpoint: Any, aws_env: dict[str, str], s3: Any, mi: Any) -> None:
    installed_sdk()
    s3.create_bucket(Bucket="js-input")
    s3.create_bucket(Bucket="js-output")
    for name, data in ct_series(2, 32, subject=SUBJECT):
        s3.put_object(Bucket="js-input", Key=f"in/{name}", Body=data)
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
        **aws_env,
        "AHI_ENDPOINT_URL": endpoint.url,
        "AHI_ROLE_ARN": ROLE,
        "AHI_INPUT_URI": "s3://js-input/in/",
        "AHI_OUTPUT_URI": "s3://js-output/out/",
        "AHI_PATIENT_ID": SUBJECT.patient_id,
    }

    steps = run_script(env)
    by_name = {step["step"]: step for step in steps}
    names = [step["step"] for step in steps]
    assert names[-1] == "done", steps
    datastore_id = by_name["CreateDatastore"]["datastoreId"]

    assert by_name["CreateDatastore"]["datastoreStatus"] == "CREATING"
    assert by_name["GetDatastore"]["datastoreArn"].endswith(f":datastore/{datastore_id}")
    assert datastore_id in by_name["ListDatastores"]["ids"]
    assert by_name["StartDICOMImportJob"]["jobStatus"] == "SUBMITTED"
    job_id = by_name["StartDICOMImportJob"]["jobId"]
    assert by_name["GetDICOMImportJob"]["jobStatus"] == "COMPLETED"
    assert by_name["GetDICOMImportJob"]["outputS3Uri"] == f"s3://js-output/out/{datastore_id}-DicomImport-{job_id}/"
    assert by_name["ListDICOMImportJobs"]["jobIds"] == [job_id]

    search = by_name["SearchImageSets"]
    assert (search["count"], search["patientName"]) == (1, SUBJECT.patient_name)
    assert (search["storageTier"], search["hasLastAccessedAt"]) == ("FREQUENT_ACCESS", True)
    image_set = by_name["GetImageSet"]
    assert (image_set["imageSetState"], image_set["versionId"], image_set["createdAtIsDate"]) == ("ACTIVE", "1", True)
    assert image_set["storageTier"] == "FREQUENT_ACCESS"
    image_set_id = image_set["imageSetId"]
    assert image_set["imageSetArn"].endswith(f":datastore/{datastore_id}/imageset/{image_set_id}")

    document = by_name["GetImageSetMetadata"]
    assert (document["imageSetIdInDocument"], document["patientName"]) == (image_set_id, SUBJECT.patient_name)
    assert document["contentEncoding"] == "gzip"
    frame = by_name["GetImageFrame"]
    assert frame["bytes"] > 0 and frame["contentType"]

    assert by_name["UpdateImageSetMetadata"]["imageSetState"] == "LOCKED"
    assert by_name["UpdateImageSetMetadata"]["latestVersionId"] == "2"
    assert by_name["ListImageSetVersions"]["versionIds"] == ["1", "2"]
    assert by_name["CopyImageSet"]["copyState"] == "ACTIVE"
    assert by_name["Tags"]["imageSet"] == {"reviewed": "yes"}
    assert by_name["Tags"]["datastore"] == {"origin": "js"}
    deleted = [step for step in steps if step["step"] == "DeleteImageSet"]
    assert [step["imageSetId"] for step in deleted] == [by_name["CopyImageSet"]["copyId"], image_set_id]
    assert by_name["NotFound"] == {"step": "NotFound", "name": "ResourceNotFoundException", "status": 404, "isClass": True}
    assert by_name["DeleteDatastore"]["datastoreStatus"] == "DELETING"

    # What the JavaScript SDK did is what boto3 sees.
    versions = mi.list_image_set_versions(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetPropertiesList"]
    assert {item["imageSetState"] for item in versions} == {"DELETED"}
