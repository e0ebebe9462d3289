"""In a real terminal (tmux), after an UpdateImageSetMetadata and 31 days on the endpoint clock, a person sees
the image set in Archive Instant Access in the search table, is told that opening its metadata moves it back
to Frequent Access, and diffs its two versions: the renamed patient, old → new."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from image_set_world import PATIENT_B
from journey_clients import journey_clients
from test_image_set_journey import state_dir  # noqa: F401 - the same endpoint state with the imported world
from tmux_harness import Tmux

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


def rename_and_age(endpoint_url: str) -> str:
    """Rename the patient of PATIENT_B's image set (version 2), then move the endpoint clock on 31 days."""
    (mi,) = journey_clients(endpoint_url, "medical-imaging")
    store = mi.list_datastores()["datastoreSummaries"][0]["datastoreId"]
    criteria = {"filters": [{"operator": "EQUAL", "values": [{"DICOMPatientId": PATIENT_B.patient_id}]}]}
    image_set = mi.search_image_sets(datastoreId=store, searchCriteria=criteria)["imageSetsMetadataSummaries"][0]["imageSetId"]
    patch = {"SchemaVersion": 1.1, "Patient": {"DICOM": {"PatientName": "Roe^Janet"}}}
    mi.update_image_set_metadata(
        datastoreId=store, imageSetId=image_set, latestVersionId="1",
        updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": json.dumps(patch).encode()}},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while mi.get_image_set(datastoreId=store, imageSetId=image_set)["imageSetState"] == "LOCKED":
        assert time.monotonic() < deadline, "the update never ended"
        time.sleep(0.05)
    advance = json.dumps({"advanceSeconds": 31 * 86400}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{endpoint_url}/_ahi/clock", data=advance, method="POST"), timeout=10).close()
    return str(image_set)


def test_tier_column_access_notice_and_version_diff(tmux: Tmux, state_dir: Path) -> None:  # noqa: F811
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    tmux.wait_for(lambda s: "imaging-archive" in s and "ACTIVE" in s, "the data store row")
    image_set = rename_and_age(tmux.endpoint_url())

    tmux.command(f"sets {PATIENT_B.patient_id}")
    tmux.wait_for(lambda s: "Roe, Janet" in s and "1 loaded" in s, "the search result")
    for _ in range(6):
        tmux.keys("Right")
    screen = tmux.wait_for(lambda s: "Archive IA" in s, "the tier column")
    assert "last access" in screen

    tmux.keys("Enter")
    tmux.wait_for(lambda s: "Archive Instant Access" in s and "d diffs" in s, "the detail with its tier")
    tmux.keys("m")
    screen = tmux.wait_for(lambda s: "moves image set" in s and "Image set" in s, "the metadata with the access notice")
    flat = " ".join(screen.split())
    assert "This read moves image set" in flat and "Frequent Access" in flat
    assert image_set[:12] in screen

    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Frequent Access" in s and "d diffs" in s, "the detail, back in Frequent Access")
    tmux.keys("Tab", "j", "d")
    screen = tmux.wait_for(lambda s: "Version 1 → version 2" in s, "the version diff")
    assert "~ PatientName  Doe, Jane → Roe, Janet" in screen
    assert "1 change (0 added, 1 changed, 0 removed)" in screen
