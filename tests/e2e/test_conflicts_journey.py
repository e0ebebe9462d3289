"""In a real terminal (tmux): a study re-imported with a changed PatientName left a non-primary image set.
The job says so, `f` opens the conflicts, the differing attribute is shown side by side, `P` promotes
the non-primary image set after a confirmation, and the roles swap."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conflict_world import ORIGINAL, RENAMED, reimport_conflict
from journey_clients import journey_clients
from tmux_harness import Tmux

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


def role_of(screen: str, image_set_id: str) -> str | None:
    """The role word on the line of the image set's row."""
    for line in screen.splitlines():
        if image_set_id in line:
            match = re.search(r"\b(non-primary|primary)\b", line)
            return match.group(1) if match else None
    return None


def test_reimport_conflict_promote_swaps_roles(tmux: Tmux, state_dir: Path) -> None:
    tmux.start_ahi("--local", "--state-dir", str(state_dir), "--refresh", "0")
    mi, s3 = journey_clients(tmux.endpoint_url(), "medical-imaging", "s3")
    world = reimport_conflict(mi, s3)

    tmux.command("jobs")
    tmux.wait_for(lambda s: "reimport-renamed" in s and "first-import" in s, "both jobs")
    tmux.keys("/")
    tmux.wait_for(lambda s: "filter: text" in s, "the filter bar")
    tmux.keys("-l", "reimport")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "reimport-renamed" in s and "first-import" not in s, "the re-import job alone")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: bool(re.search(r"\bprimary +0\b", s) and re.search(r"non-primary +1\b", s)), "the job's roles: 1 non-primary")

    tmux.keys("f")
    screen = tmux.wait_for(lambda s: "1 primary, 1 non-primary" in s and world.non_primary in s, "the conflicts view")
    assert role_of(screen, world.primary) == "primary" and role_of(screen, world.non_primary) == "non-primary"
    tmux.keys("j")
    screen = tmux.wait_for(lambda s: "Why it is not primary" in s, "the differences of the non-primary image set")
    assert "PatientName" in screen and ORIGINAL.patient_name in screen and RENAMED.patient_name in screen

    tmux.keys("P")
    tmux.wait_for(lambda s: "Promote to primary?" in s, "the confirmation")
    tmux.keys("Tab")
    tmux.keys("Enter")
    screen = tmux.wait_for(lambda s: "2 non-primary" in s and role_of(s, world.primary) == "non-primary", "the roles swapped")
    assert role_of(screen, world.non_primary) == "non-primary"
    promoted = [s["imageSetId"] for s in mi.search_image_sets(datastoreId=world.datastore_id, searchCriteria={})["imageSetsMetadataSummaries"] if s["isPrimary"]]
    assert len(promoted) == 1 and role_of(screen, promoted[0]) == "primary"
