"""A viewer served from another origin against the local endpoint with signature verification off: CORS over raw HTTP.

The browser's side is played byte for byte: a preflight (OPTIONS with Access-Control-Request-*), then the
request itself with its Origin; the browser hands the response to the page only with these headers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from raw_http import send_raw
from world import DicomwebWorld, dicomweb_world

VIEWER = "http://viewer.example:3000"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DicomwebWorld]:
    with dicomweb_world(tmp_path_factory.mktemp("cors"), verify_signatures=False) as built:
        yield built


def _instance_path(world: DicomwebWorld, name: str = "ct-1") -> str:
    instance = world.instances[name]
    return (
        f"/datastore/{world.datastore_id}/studies/{instance.study_uid}/series/{instance.series_uid}"
        f"/instances/{instance.sop_uid}"
    )


def _split(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",")}


def test_a_preflight_for_frames_allows_the_viewer_its_method_and_headers(world: DicomwebWorld) -> None:
    requested = "authorization, accept, x-amz-date, x-amz-security-token, amz-sdk-invocation-id"
    response = send_raw(
        world.endpoint,
        "OPTIONS",
        f"{_instance_path(world)}/frames/1",
        headers={"Origin": VIEWER, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": requested},
        sign=False,
    )
    assert response.status == 204
    assert response.headers["access-control-allow-origin"] == VIEWER
    assert "GET" in {method.upper() for method in _split(response.headers["access-control-allow-methods"])}
    assert _split(requested) <= _split(response.headers["access-control-allow-headers"])
    assert response.body == b""


def test_a_preflight_for_a_store_allows_post_with_its_content_type(world: DicomwebWorld) -> None:
    response = send_raw(
        world.endpoint,
        "OPTIONS",
        f"/datastore/{world.datastore_id}/studies",
        headers={
            "Origin": VIEWER,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-amz-content-sha256",
        },
        sign=False,
    )
    assert response.status == 204
    assert "post" in _split(response.headers["access-control-allow-methods"])
    assert {"content-type", "x-amz-content-sha256"} <= _split(response.headers["access-control-allow-headers"])


def test_an_unsigned_get_from_the_viewer_is_served_with_its_origin_allowed(world: DicomwebWorld) -> None:
    response = send_raw(
        world.endpoint,
        "GET",
        f"{_instance_path(world)}/metadata",
        headers={"Origin": VIEWER, "Accept": "application/dicom+json"},
        sign=False,
    )
    assert response.status == 200, response.body
    assert response.headers["access-control-allow-origin"] == VIEWER
    assert "x-amzn-requestid" in _split(response.headers["access-control-expose-headers"])
    assert response.json[0]["00080018"]["Value"] == [world.instances["ct-1"].sop_uid]


def test_an_error_reaches_the_page_too(world: DicomwebWorld) -> None:
    """Without the headers on a 404 the page would see an opaque network error instead of the service's answer."""
    path = f"/datastore/{world.datastore_id}/studies/1.2.3/series/4.5.6/instances/7.8.9/metadata"
    response = send_raw(world.endpoint, "GET", path, headers={"Origin": VIEWER}, sign=False)
    assert response.status == 404
    assert response.headers["access-control-allow-origin"] == VIEWER
    assert "x-amzn-errortype" in _split(response.headers["access-control-expose-headers"])


def test_a_request_without_an_origin_gets_no_cors_headers(world: DicomwebWorld) -> None:
    response = send_raw(world.endpoint, "GET", f"{_instance_path(world)}/metadata", sign=False)
    assert response.status == 200
    assert not any(name.startswith("access-control-") for name in response.headers)
