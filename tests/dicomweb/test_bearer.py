"""OIDC bearer tokens on DICOMweb with signature verification on: the state directory's token file stands in for the
data store's Lambda authorizer (docs/dicomweb.md#bearer-tokens)."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydicom
import pytest
import requests
from local_endpoints import until
from world import DicomwebWorld, dicomweb_world

from ahi.emulator.demo.phantoms import Subject, ct_series
from ahi.emulator.dicomweb.bearer import tokens_path

AUTHORIZER = "arn:aws:lambda:us-east-1:123456789012:function:dicomweb-authorizer"
ROLE = "arn:aws:iam::123456789012:role/ViewerRole"


def jwt(**claims: Any) -> str:
    """An unsigned-looking JWT: the local authorizer (the token file) does not check signatures."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part({'sub': 'viewer', 'iat': now - 60, 'exp': now + 3600, **claims})}.sig"


@dataclass
class OidcWorld:
    world: DicomwebWorld
    datastore_id: str
    instance_path: str
    tokens: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"{self.world.endpoint.url}/datastore/{self.datastore_id}"

    def get(self, token: str, path: str | None = None, datastore_id: str | None = None) -> requests.Response:
        base = f"{self.world.endpoint.url}/datastore/{datastore_id or self.datastore_id}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/dicom+json"}
        return requests.get(base + (path or self.instance_path), headers=headers, timeout=30)


@pytest.fixture(scope="module")
def oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcWorld]:
    with dicomweb_world(tmp_path_factory.mktemp("bearer")) as world:
        mi = world.mi
        datastore_id = mi.create_datastore(
            datastoreName="oidc", clientToken="oidc", lambdaAuthorizerArn=AUTHORIZER
        )["datastoreId"]
        until(
            lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE",
            "the OIDC data store to be ACTIVE",
        )
        assert mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["lambdaAuthorizerArn"] == AUTHORIZER
        (data,) = [item for _, item in ct_series(1, 16, subject=Subject(patient_id="OIDC", study_key="oidc"))]
        source = pydicom.dcmread(io.BytesIO(data))
        stored = world.session().post(
            f"{world.endpoint.url}/datastore/{datastore_id}/studies", data=data, headers={"Content-Type": "application/dicom"}
        )
        assert stored.status_code == 200, stored.text
        path = (
            f"/studies/{source.StudyInstanceUID}/series/{source.SeriesInstanceUID}"
            f"/instances/{source.SOPInstanceUID}/metadata"
        )
        tokens = {
            "good": jwt(),
            "denied": jwt(sub="nobody"),
            "other-account": jwt(sub="stranger"),
            "garbled": jwt(sub="garbled"),
            "stale": jwt(iat=int(time.time()) - 13 * 3600),
            "expired": jwt(exp=int(time.time()) - 10),
        }
        rules = {
            tokens["good"]: ROLE,
            tokens["denied"]: "",
            tokens["other-account"]: "arn:aws:iam::210987654321:role/ViewerRole",
            tokens["garbled"]: "not-a-role",
            tokens["stale"]: ROLE,
            tokens["expired"]: ROLE,
        }
        tokens_path(world.endpoint.config.state_dir).write_text(json.dumps(rules))
        yield OidcWorld(world, datastore_id, path, tokens)


def test_a_token_the_authorizer_accepts_retrieves_metadata_without_a_signature(oidc: OidcWorld) -> None:
    response = oidc.get(oidc.tokens["good"])
    assert response.status_code == 200, response.text
    assert response.json()[0]["00100020"]["Value"] == ["OIDC"]


def test_a_token_can_store_too(oidc: OidcWorld) -> None:
    (data,) = [item for _, item in ct_series(1, 16, subject=Subject(patient_id="OIDC-2", study_key="oidc-store"))]
    response = requests.post(
        f"{oidc.base_url}/studies",
        data=data,
        headers={"Authorization": f"Bearer {oidc.tokens['good']}", "Content-Type": "application/dicom"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "token",
    ["unlisted", "denied", "other-account", "stale", "expired", "not-a-jwt"],
)
def test_refused_tokens_are_403(oidc: OidcWorld, token: str) -> None:
    value = {"unlisted": jwt(sub="unlisted"), "not-a-jwt": "opaque-token"}.get(token) or oidc.tokens[token]
    response = oidc.get(value)
    assert response.status_code == 403, response.text
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_an_authorizer_answer_that_is_no_role_arn_is_424(oidc: OidcWorld) -> None:
    response = oidc.get(oidc.tokens["garbled"])
    assert response.status_code == 424
    assert "misconfigured" in response.json()["message"]


def test_without_the_token_file_the_authorizer_cannot_answer_424(oidc: OidcWorld) -> None:
    path = tokens_path(oidc.world.endpoint.config.state_dir)
    aside = path.with_suffix(".aside")
    path.rename(aside)
    try:
        response = oidc.get(oidc.tokens["good"])
    finally:
        aside.rename(path)
    assert response.status_code == 424


def test_a_data_store_without_an_authorizer_refuses_bearer_tokens(oidc: OidcWorld) -> None:
    response = oidc.get(oidc.tokens["good"], datastore_id=oidc.world.datastore_id)
    assert response.status_code == 403
    assert "lambdaAuthorizerArn" in response.json()["message"]


def test_the_cloud_native_api_does_not_take_bearer_tokens(oidc: OidcWorld) -> None:
    response = requests.get(
        f"{oidc.world.endpoint.url}/datastore/{oidc.datastore_id}",
        headers={"Authorization": f"Bearer {oidc.tokens['good']}"},
        timeout=30,
    )
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] != "AccessDeniedException"  # refused by SigV4, not by the token


def test_sigv4_still_works_on_an_oidc_data_store(oidc: OidcWorld) -> None:
    response = oidc.world.session().get(oidc.base_url + oidc.instance_path, timeout=30)
    assert response.status_code == 200


def test_a_viewer_on_another_origin_reads_with_its_token(oidc: OidcWorld) -> None:
    """The OHIF way: a browser page sends its bearer token across origins; the answer carries CORS headers."""
    origin = "https://viewer.example"
    response = requests.get(
        oidc.base_url + oidc.instance_path,
        headers={"Authorization": f"Bearer {oidc.tokens['good']}", "Origin": origin},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    refused = requests.get(
        oidc.base_url + oidc.instance_path, headers={"Authorization": "Bearer opaque", "Origin": origin}, timeout=30
    )
    assert (refused.status_code, refused.headers["Access-Control-Allow-Origin"]) == (403, origin)
