"""WADO-RS against the local endpoint over HTTP with dicomweb-client, every request SigV4-signed (docs/dicomweb.md#wado-rs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from world import DicomwebWorld, dicomweb_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DicomwebWorld]:
    with dicomweb_world(tmp_path_factory.mktemp("dicomweb")) as built:
        yield built


def test_world_has_primary_and_non_primary_image_sets(world: DicomwebWorld) -> None:
    assert {name for name, found in world.instances.items() if not found.is_primary} == {"renamed"}
    assert world.instances["ct-1"].image_set_id == world.instances["ct-3"].image_set_id
