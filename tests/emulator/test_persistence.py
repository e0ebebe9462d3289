"""A restart on the same state directory keeps every data store, status, tag, token and page position."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from typing import Any

import pytest
from datastore_waits import active_datastore, wait_for_status

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint


Restart = Callable[[], tuple[LocalEndpoint, Any]]


@pytest.fixture
def restart(make_client: Any, restart_endpoint: Callable[[], LocalEndpoint]) -> Restart:
    """Restart the endpoint on the same state dir; the new endpoint and a client made for it."""

    def again() -> tuple[LocalEndpoint, Any]:
        restarted = restart_endpoint()
        return restarted, make_client("medical-imaging", endpoint_url=restarted.url)

    return again


def test_data_stores_statuses_and_tags_survive_a_restart(mi: Any, restart: Restart) -> None:
    kept = active_datastore(mi, datastoreName="kept", tags={"Deployment": "Development"})
    gone = active_datastore(mi, datastoreName="gone")
    mi.delete_datastore(datastoreId=gone["datastoreId"])
    wait_for_status(mi, gone["datastoreId"], "DELETED")
    mi.tag_resource(resourceArn=kept["datastoreArn"], tags={"Owner": "team"})
    mi.untag_resource(resourceArn=kept["datastoreArn"], tagKeys=["Deployment"])
    before = mi.list_datastores()["datastoreSummaries"]

    _, client = restart()

    assert client.list_datastores()["datastoreSummaries"] == before
    assert client.get_datastore(datastoreId=kept["datastoreId"])["datastoreProperties"] == kept
    assert client.list_tags_for_resource(resourceArn=kept["datastoreArn"])["tags"] == {"Owner": "team"}
    statuses = {s["datastoreName"]: s["datastoreStatus"] for s in before}
    assert statuses == {"kept": "ACTIVE", "gone": "DELETED"}


def test_timed_transitions_resume_after_a_restart(
    endpoint_config: EndpointConfig, mi: Any, restart: Restart
) -> None:
    endpoint_config.datastore_transition_seconds = 60.0
    datastore_id = mi.create_datastore(datastoreName="slow")["datastoreId"]
    restarted, client = restart()
    assert client.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "CREATING"
    assert restarted.runtime is not None
    restarted.runtime.clock = lambda: time.time() + 61
    active = client.get_datastore(datastoreId=datastore_id)["datastoreProperties"]
    assert active["datastoreStatus"] == "ACTIVE"
    assert (active["updatedAt"] - active["createdAt"]).total_seconds() == pytest.approx(60.0, abs=0.01)


def test_client_tokens_and_page_tokens_survive_a_restart(mi: Any, restart: Restart) -> None:
    first = mi.create_datastore(datastoreName="idem", clientToken="kept-token")["datastoreId"]
    mi.create_datastore(datastoreName="second")
    page = mi.list_datastores(maxResults=1)
    _, client = restart()
    assert client.create_datastore(datastoreName="idem", clientToken="kept-token")["datastoreId"] == first
    rest = client.list_datastores(maxResults=1, nextToken=page["nextToken"])
    assert [s["datastoreName"] for s in rest["datastoreSummaries"]] == ["second"]


def test_state_directory_is_private(endpoint_config: EndpointConfig, mi: Any) -> None:
    mi.create_datastore(datastoreName="x")
    state = endpoint_config.state_dir
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    for path in state.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path.name
