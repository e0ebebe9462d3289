"""Writes with no clientToken are never resent: a 5xx that arrives after the write committed stays one write."""

from __future__ import annotations

import time
from typing import Any

import pytest
from image_set_world import World, import_world

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.services.errors import AwsCallError
from ahi.services.connection import Connection
from ahi.services.session import AwsSession, ConnectionSettings


@pytest.fixture
def endpoint_config(endpoint_config: EndpointConfig) -> EndpointConfig:
    endpoint_config.faults = "CopyImageSet:5xx-after=1"
    endpoint_config.faults_seed = 7
    endpoint_config.imageset_lock_seconds = 0.05
    return endpoint_config


@pytest.fixture
def world(mi: Any, s3: Any) -> World:
    return import_world(mi, s3)


@pytest.fixture
def console_hub(endpoint: LocalEndpoint, aws_env: dict[str, str]) -> Connection:
    """Services as the console builds them: botocore's default retries (3 attempts in standard mode)."""
    return Connection(AwsSession(ConnectionSettings(region="us-east-1", endpoint_url=endpoint.url, local_credentials=True)))


def _image_set_ids(mi: Any, datastore_id: str) -> set[str]:
    pages = mi.get_paginator("search_image_sets").paginate(datastoreId=datastore_id, searchCriteria={})
    return {summary["imageSetId"] for page in pages for summary in page["imageSetsMetadataSummaries"]}


def test_a_copy_answered_500_after_it_committed_makes_one_copy(console_hub: Connection, world: World, mi: Any) -> None:
    hub = console_hub
    before = _image_set_ids(mi, world.datastore_id)
    version = hub.imagesets.get(world.datastore_id, world.ct).version_id
    with pytest.raises(AwsCallError) as caught:
        hub.imagesets.copy(world.datastore_id, world.ct, version)
    assert caught.value.code == "InternalServerException"
    time.sleep(2.5)  # longer than botocore's standard-mode backoff before a second and third attempt
    copies = _image_set_ids(mi, world.datastore_id) - before
    assert len(copies) == 1, f"the copy was sent {len(copies)} times"
    assert [record.outcome for record in hub.aws.call_log.records() if record.operation == "CopyImageSet"] != ["OK"]
