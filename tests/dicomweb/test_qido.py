"""QIDO-RS against the local endpoint over HTTP with dicomweb-client, every request SigV4-signed (docs/dicomweb.md#qido-rs).

The DICOMweb world (study A: a CT series, a cine loop, an ultrasound image, plus a non-primary series)
gets two more studies here: B (two CT slices, one imported with a padding warning) and C (one slice),
imported after A and in that order, so that the newest-first study order is C, B, A.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom
import pytest
import requests
from dicomweb_client import DICOMwebClient
from import_runs import run_import
from raw_http import ACCESS_KEY, REGION, SECRET_KEY
from world import DicomwebWorld, dicomweb_world

from ahi.emulator.demo.phantoms import Subject, ct_series

ROOT = Path(__file__).resolve().parents[2]

STUDY_B = Subject(
    patient_id="QIDO-B", patient_name="Smith^Anna", study_key="b", accession="ACC-B", study_date="20210610"
)
STUDY_C = Subject(
    patient_id="QIDO-C", patient_name="Smith^Bob", study_key="c", accession="ACC-C", study_date="20230101"
)


@dataclass
class QidoWorld:
    """The shared DICOMweb world plus this module's two studies."""

    world: DicomwebWorld
    warned_sop: str

    @property
    def a(self) -> str:
        return self.world.instances["ct-1"].study_uid


def _weighed(data: bytes, *, padding: bool = False) -> bytes:
    """The file with a PatientWeight (a Study-level element the index does not hold) and, with `padding`,
    4 bytes of excess pixel data padding: it then imports with a PixelDataPadding warning."""
    dataset = pydicom.dcmread(io.BytesIO(data))
    dataset.PatientWeight = "70.5"
    if padding:
        dataset.PixelData = dataset.PixelData + b"\0\0\0\0"
    out = io.BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    return out.getvalue()


@pytest.fixture(scope="module")
def qido(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QidoWorld]:
    with dicomweb_world(tmp_path_factory.mktemp("qido")) as world:
        (first, second) = ct_series(2, 16, subject=STUDY_B, series_key="b")
        warned = pydicom.dcmread(io.BytesIO(second[1]), stop_before_pixels=True).SOPInstanceUID
        files = [(first[0], _weighed(first[1])), (second[0], _weighed(second[1], padding=True))]
        run_import(world.mi, world.s3, world.datastore_id, files, "qido-b")
        run_import(world.mi, world.s3, world.datastore_id, ct_series(1, 16, subject=STUDY_C, series_key="c"), "qido-c")
        yield QidoWorld(world, str(warned))


def value(item: dict[str, Any], tag: str) -> Any:
    """The first value of an attribute of a DICOM JSON result (None when absent)."""
    values = item.get(tag, {}).get("Value")
    return values[0] if values else None


def study_uids(results: list[dict[str, Any]]) -> list[str]:
    return [value(item, "0020000D") for item in results]


def test_studies_are_the_primary_ones_newest_first_with_the_default_attributes(qido: QidoWorld) -> None:
    results = qido.world.client.search_for_studies()
    assert study_uids(results) == [STUDY_C.study_uid, STUDY_B.study_uid, qido.a]
    study_a = results[2]
    assert value(study_a, "00100010") == {"Alphabetic": "Phantom^Shepp^Logan"}  # not the non-primary's name
    assert (value(study_a, "00201206"), value(study_a, "00201208")) == (3, 5)
    assert set(study_a["00080061"]["Value"]) == {"CT", "US"}
    assert (value(study_a, "00080020"), value(study_a, "00080050"), value(study_a, "00100020")) == (
        "20240315", "ACC0001", "AHI-DEMO-001"
    )
    assert study_a["00080020"]["vr"] == "DA" and study_a["00100010"]["vr"] == "PN"
    # dicomweb-client sends a Host header without the port; the URL names the port the request came in on
    assert value(study_a, "00081190") == f"{qido.world.base_url}/studies/{qido.a}"
    assert value(study_a, "00080056") == "ONLINE"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"PatientID": "QIDO-B"}, ["b"]),
        ({"00100020": "QIDO-C"}, ["c"]),
        ({"StudyDate": "20210101-20211231"}, ["b"]),
        ({"StudyDate": "20220101-"}, ["c", "a"]),
        ({"StudyDate": "-20230101"}, ["c", "b"]),
        ({"StudyDate": "20240315"}, ["a"]),
        ({"PatientName": "Smith*"}, ["c", "b"]),
        ({"PatientName": "smith^a?na"}, ["b"]),
        ({"AccessionNumber": "ACC-?"}, ["c", "b"]),
        ({"ModalitiesInStudy": "US"}, ["a"]),
        ({"ReferringPhysicianName": "Referrer^Demo", "PatientID": "QIDO-C"}, ["c"]),
        ({"StudyInstanceUID": f"{STUDY_B.study_uid},{STUDY_C.study_uid}"}, ["c", "b"]),
        ({"StudyID": "1", "PatientID": "*"}, ["c", "b", "a"]),
    ],
)
def test_studies_match_keys_dates_wildcards_and_uid_lists(
    qido: QidoWorld, filters: dict[str, str], expected: list[str]
) -> None:
    names = {STUDY_B.study_uid: "b", STUDY_C.study_uid: "c", qido.a: "a"}
    found = qido.world.client.search_for_studies(search_filters=filters)
    assert [names[uid] for uid in study_uids(found)] == expected


def test_fuzzy_matching_finds_person_names_by_the_start_of_any_word(qido: QidoWorld) -> None:
    client = qido.world.client
    assert study_uids(client.search_for_studies(search_filters={"PatientName": "ann"}, fuzzymatching=True)) == [
        STUDY_B.study_uid
    ]
    assert study_uids(client.search_for_studies(search_filters={"PatientName": "SMI^b"}, fuzzymatching=True)) == [
        STUDY_C.study_uid
    ]
    assert client.search_for_studies(search_filters={"PatientName": "ann"}) == []
    assert client.search_for_studies(search_filters={"PatientName": "nna"}, fuzzymatching=True) == []


def test_limit_and_offset_page_through_the_same_order(qido: QidoWorld) -> None:
    client = qido.world.client
    assert study_uids(client.search_for_studies(limit=1, offset=1)) == [STUDY_B.study_uid]
    assert study_uids(client.search_for_studies(limit=1, get_remaining=True)) == [
        STUDY_C.study_uid, STUDY_B.study_uid, qido.a
    ]
    assert client.search_for_studies(offset=3) == []


def test_series_of_a_study_in_series_number_order_and_the_non_primary_one_only_by_image_set(qido: QidoWorld) -> None:
    world = qido.world
    series = world.client.search_for_series(qido.a)
    assert [value(item, "00200011") for item in series] == [2, 4, 5]
    ct = series[0]
    assert value(ct, "0020000E") == world.instances["ct-1"].series_uid
    assert (value(ct, "00080060"), value(ct, "0008103E"), value(ct, "00201209")) == ("CT", "Head axial 5mm", 3)
    assert value(ct, "0020000D") == qido.a
    assert "00100020" not in ct  # the study is in the path: its attributes are not repeated
    renamed = world.instances["renamed"]
    assert renamed.series_uid not in {value(item, "0020000E") for item in series}
    scoped = world.client.search_for_series(qido.a, additional_params={"imageSetId": renamed.image_set_id})
    assert [value(item, "0020000E") for item in scoped] == [renamed.series_uid]
    assert value(scoped[0], "00081190").endswith(f"/series/{renamed.series_uid}?imageSetId={renamed.image_set_id}")


def test_series_across_studies_match_modality_and_carry_their_study(qido: QidoWorld) -> None:
    found = qido.world.client.search_for_series(search_filters={"Modality": "CT"})
    assert sorted(value(item, "0020000D") for item in found) == sorted([qido.a, STUDY_B.study_uid, STUDY_C.study_uid])
    by_study = {value(item, "0020000D"): item for item in found}
    assert value(by_study[STUDY_B.study_uid], "00100010") == {"Alphabetic": "Smith^Anna"}
    assert qido.world.client.search_for_series(search_filters={"Modality": "MR"}) == []


def test_instances_in_instance_number_order_with_includefield_from_the_document(qido: QidoWorld) -> None:
    world = qido.world
    ct = world.instances["ct-1"]
    instances = world.client.search_for_instances(ct.study_uid, ct.series_uid, fields=["ImageType", "00280030"])
    assert [value(item, "00080018") for item in instances] == [world.instances[f"ct-{n}"].sop_uid for n in (1, 2, 3)]
    first = instances[0]
    assert (value(first, "00200013"), value(first, "00280010"), value(first, "00280011"), value(first, "00280100")) == (
        1, 32, 32, 16
    )
    assert first["00080008"] == {"vr": "CS", "Value": ["ORIGINAL", "PRIMARY", "AXIAL"]}
    assert first["00280030"]["Value"] == [0.5, 0.5]
    assert "00080070" not in first
    everything = world.client.search_for_instances(ct.study_uid, ct.series_uid, fields=["all"], limit=1)
    assert value(everything[0], "00080070") == "ahi phantoms"
    assert value(everything[0], "00100010") == {"Alphabetic": "Phantom^Shepp^Logan"}
    cine = world.instances["cine"]
    (multiframe,) = world.client.search_for_instances(search_filters={"SOPInstanceUID": cine.sop_uid})
    assert value(multiframe, "00280008") == 3
    assert value(multiframe, "00100020") == "AHI-DEMO-001"  # /instances: the study's attributes come along


def test_a_study_attribute_the_index_lacks_comes_from_the_document(qido: QidoWorld) -> None:
    client = qido.world.client
    (plain,) = client.search_for_studies(search_filters={"PatientID": "QIDO-B"})
    assert "00101030" not in plain
    (weighed,) = client.search_for_studies(search_filters={"PatientID": "QIDO-B"}, fields=["PatientWeight"])
    assert weighed["00101030"] == {"vr": "DS", "Value": [70.5]}
    (everything,) = client.search_for_studies(search_filters={"PatientID": "QIDO-B"}, fields=["all"])
    assert value(everything, "00101030") == 70.5 and value(everything, "00080090") == {"Alphabetic": "Referrer^Demo"}
    assert "00080060" not in everything  # a series attribute is not part of a study result


def test_instance_results_carry_the_import_warnings(qido: QidoWorld) -> None:
    found = qido.world.client.search_for_instances(STUDY_B.study_uid)
    warned = {value(item, "00080018"): item.get("00081196") for item in found}
    assert warned == {
        qido.warned_sop: {"vr": "US", "Value": [45331]},
        next(uid for uid in warned if uid != qido.warned_sop): None,
    }


def test_a_non_primary_image_set_is_searched_alone_with_its_own_study_attributes(qido: QidoWorld) -> None:
    renamed = qido.world.instances["renamed"]
    (study,) = qido.world.client.search_for_studies(additional_params={"imageSetId": renamed.image_set_id})
    assert value(study, "00100010") == {"Alphabetic": "Phantom^Renamed"}
    assert (value(study, "00201206"), value(study, "00201208")) == (1, 1)
    (instance,) = qido.world.client.search_for_instances(additional_params={"imageSetId": renamed.image_set_id})
    assert value(instance, "00080018") == renamed.sop_uid


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("PatientWeight=70", "PatientWeight"),
        ("Modality=CT", "Modality"),
        ("StudyDate=2021", "StudyDate"),
        ("StudyDate=20210101-2021", "StudyDate"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("offset=-1", "offset"),
        ("fuzzymatching=yes", "fuzzymatching"),
        ("includefield=NotAKeyword", "includefield"),
        ("imageSetId=nope", "imageSetId"),
        ("StudyInstanceUID=1.2.x", "StudyInstanceUID"),
        ("PatientID=a&PatientID=b", "PatientID"),
        ("&".join(f"includefield=0011{n:04X}" for n in range(51)), "includefield"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(qido: QidoWorld, query: str, named: str) -> None:
    response = qido.world.get(f"/studies?{query}", headers={"Accept": "application/dicom+json"})
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"].startswith("ValidationException")
    assert named in response.json()["message"]


def test_accept_is_strict_and_an_empty_search_is_204(qido: QidoWorld) -> None:
    world = qido.world
    ok = world.get("/studies", headers={"Accept": "application/dicom+json"})
    assert (ok.status_code, ok.headers["Content-Type"]) == (200, "application/dicom+json")
    assert value(ok.json()[-1], "00081190") == f"{world.base_url}/studies/{qido.a}"
    assert world.get("/studies", headers={"Accept": "*/*"}).status_code == 200
    mixed = world.get(
        "/series", headers={"Accept": 'application/dicom+json, multipart/related; type="application/octet-stream"'}
    )
    assert (mixed.status_code, mixed.headers["x-amzn-ErrorType"].split(":")[0]) == (406, "NotAcceptableException")
    assert world.get("/studies", headers={"Accept": "application/dicom+xml"}).status_code == 406
    empty = world.get("/studies?PatientID=nobody", headers={"Accept": "application/dicom+json"})
    assert (empty.status_code, empty.content) == (204, b"")
    assert world.get(f"/series?imageSetId={'0' * 32}").status_code == 204
    assert world.get("/studies", sign=False).status_code == 403


#: Attributes an instance result leaves out unless asked for: ImageType, PixelSpacing, PatientWeight.
EXTRA = ("00080008", "00280030", "00101030")


def _spaced_search(client: DICOMwebClient) -> list[dict[str, Any]]:
    """Study B's instances by a name with a space (sent as `+`) and a comma list of includefield (sent as `%2C`)."""
    return client.search_for_instances(
        search_filters={"PatientName": "anna smi"}, fuzzymatching=True, fields=["ImageType,00280030,PatientWeight"]
    )


def test_a_signed_search_with_a_space_and_a_comma_list_passes_the_signature_check(qido: QidoWorld) -> None:
    world = qido.world
    plain = world.client.search_for_instances(STUDY_B.study_uid)
    assert len(plain) == 2 and not any(set(EXTRA) & item.keys() for item in plain)
    found = _spaced_search(world.client)
    assert {value(item, "0020000D") for item in found} == {STUDY_B.study_uid} and len(found) == 2
    assert all(set(EXTRA) <= item.keys() for item in found)
    # dicomweb-client's Host header has no port: the URL still names the one the request came in on.
    first = found[0]
    instance_path = f"/studies/{STUDY_B.study_uid}/series/{value(first, '0020000E')}/instances/{value(first, '00080018')}"
    assert value(first, "00081190") == f"{world.base_url}{instance_path}"
    raw = world.get(
        "/instances?PatientName=anna+smi&fuzzymatching=true&includefield=ImageType,00280030,PatientWeight",
        headers={"Accept": "application/dicom+json"},
    )
    assert raw.status_code == 200, raw.text
    assert raw.json() == found


def test_the_readme_signing_snippet_signs_a_search_with_a_space_and_a_comma(
    qido: QidoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## DICOMweb\n.*?```python\n(.*?)```", readme, re.S)
    assert block is not None
    snippet = block.group(1).split("\nsession = ")[0]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    with requests.Session() as session:
        session.auth = namespace["SigV4"](REGION)
        found = _spaced_search(DICOMwebClient(url=qido.world.base_url, session=session))
    assert len(found) == 2 and all(set(EXTRA) <= item.keys() for item in found)
