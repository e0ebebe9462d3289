"""The DICOMweb index follows every write of an image set (docs/dicomweb.md#the-instance-index).

Writes go through boto3 (import, UpdateImageSetMetadata, CopyImageSet with and without promotion,
DeleteImageSet); what QIDO-RS answers afterwards, signed over HTTP, shows the index followed. The
store-level tests cover what HTTP cannot reach: a state directory from before the index, and the
query plans that keep searches indexed at any size.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

from imageset_flows import copy_to_new, import_ct, metadata, new_datastore, only_series, update, wait_unlocked
from raw_http import RawResponse
from search_seed import Seed, seed_image_sets

from ahi.emulator.config import EndpointConfig
from ahi.emulator.ids import new_id
from ahi.emulator.runtime import Runtime
from ahi.emulator.store import dicomweb_search
from ahi.emulator.store.db import Store
from ahi.emulator.store.dicomweb_search import Equal, QidoQuery, Range, Wildcard

JSON = {"Accept": "application/dicom+json"}


def _search(raw_request: Callable[..., RawResponse], datastore_id: str) -> Callable[..., list[dict[str, Any]]]:
    def search(path: str, image_set_id: str | None = None) -> list[dict[str, Any]]:
        query = "" if image_set_id is None else f"{'&' if '?' in path else '?'}imageSetId={image_set_id}"
        response = raw_request("GET", f"/datastore/{datastore_id}{path}{query}", headers=JSON)
        assert response.status in (200, 204), response.body[:300]
        return [] if response.status == 204 else list(json.loads(response.body))

    return search


def value(item: dict[str, Any], tag: str) -> Any:
    values = item.get(tag, {}).get("Value")
    return values[0] if values else None


def test_searches_follow_update_copy_promotion_and_delete(
    endpoint_config: EndpointConfig, mi: Any, s3: Any, raw_request: Callable[..., RawResponse]
) -> None:
    endpoint_config.imageset_lock_seconds = 0.05
    datastore_id = new_datastore(mi)
    primary = import_ct(mi, s3, datastore_id, slices=3)
    imported = metadata(mi, datastore_id, primary)
    series_uid, block = only_series(imported)
    study_uid = imported["Study"]["DICOM"]["StudyInstanceUID"]
    search = _search(raw_request, datastore_id)
    instances = f"/studies/{study_uid}/series/{series_uid}/instances"
    (series,) = search(f"/studies/{study_uid}/series")
    assert (value(series, "0008103E"), value(series, "00201209")) == ("Head axial 5mm", 3)

    first, second, third = list(block["Instances"])
    subset = json.dumps({"SchemaVersion": "1.1", "Study": {"Series": {series_uid: {"Instances": {second: {}, third: {}}}}}})
    information = {"sourceImageSet": {"latestVersionId": "1", "DICOMCopies": {"copiableAttributes": subset}}}
    copy = str(
        mi.copy_image_set(datastoreId=datastore_id, sourceImageSetId=primary, copyImageSetInformation=information)[
            "destinationImageSetProperties"
        ]["imageSetId"]
    )
    wait_unlocked(mi, datastore_id, copy)
    wait_unlocked(mi, datastore_id, primary)
    assert [value(item, "00080018") for item in search(instances)] == [first, second, third]  # the copy is not primary
    assert [value(item, "00080018") for item in search(instances, copy)] == [second, third]

    update(mi, datastore_id, copy, "1", updatable={"Study": {"Series": {series_uid: {"DICOM": {"SeriesDescription": "Re-read"}}}}})
    wait_unlocked(mi, datastore_id, copy)
    assert [value(item, "0008103E") for item in search(f"/studies/{study_uid}/series", copy)] == ["Re-read"]
    assert [value(item, "0008103E") for item in search(f"/studies/{study_uid}/series")] == ["Head axial 5mm"]

    promoted = copy_to_new(mi, datastore_id, copy, version="2", promoteToPrimary=True)
    assert [value(item, "00080018") for item in search(instances)] == [second, third]
    assert [value(item, "0008103E") for item in search(f"/studies/{study_uid}/series")] == ["Re-read"]
    assert [value(item, "00080018") for item in search(instances, primary)] == [first, second, third]
    (study,) = search("/studies")
    assert (value(study, "00201206"), value(study, "00201208")) == (1, 2)

    mi.delete_image_set(datastoreId=datastore_id, imageSetId=promoted)
    wait_unlocked(mi, datastore_id, promoted)
    assert search("/studies") == [] and search(instances) == []
    assert search(instances, promoted) == []
    assert len(search(instances, primary)) == 3  # no longer primary, still there


def test_a_state_directory_from_before_the_index_is_indexed_at_start(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = Store(state / "state.sqlite3")
    datastore_id = new_id()
    seeds = [Seed(created_at=1.7e9 + n, study_instance_uid=f"1.2.3.{n}", patient_id=f"P{n}") for n in range(3)]
    seed_image_sets(store, datastore_id, seeds)
    store.close()
    with sqlite3.connect(state / "state.sqlite3") as conn:  # the schema as migration 0013 left it
        for table in ("dicomweb_studies", "dicomweb_series", "dicomweb_instances", "dicomweb_instance_warnings",
                      "dicomweb_index_backlog"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM schema_version WHERE name = 'dicomweb_instances'")
    conn.close()
    runtime = Runtime(EndpointConfig(state_dir=state))
    try:
        with runtime.store.read() as conn:
            query = QidoQuery("study", datastore_id, None, (), limit=10, offset=0)
            found = dicomweb_search.search(conn, query)
            assert [row["study_uid"] for row in found] == ["1.2.3.2", "1.2.3.1", "1.2.3.0"]
            assert conn.execute("SELECT COUNT(*) FROM dicomweb_index_backlog").fetchone()[0] == 0
            assert conn.execute("SELECT COUNT(*) FROM dicomweb_instances").fetchone()[0] == 6
    finally:
        runtime.close()


def test_typical_searches_read_through_an_index(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3")
    datastore_id = new_id()
    seeds = [
        Seed(
            created_at=1.7e9 + n,
            study_instance_uid=f"1.2.{n % 40}",
            series_instance_uid=f"1.2.{n % 40}.{n}",
            patient_id=f"P{n % 40}",
            patient_name=f"Smith^{n % 40}",
            accession_number=f"A{n % 40}",
            study_date=f"2020{1 + n % 40 % 12:02d}01",
            series_number=str(n % 7),
        )
        for n in range(200)
    ]
    seed_image_sets(store, datastore_id, seeds)
    by = {  # name -> (level, matches, the index that must drive it)
        "studies newest first": ("study", (), "dicomweb_studies_by_update"),
        "studies of a patient": ("study", (Equal("patient_id", ("P3",)),), "dicomweb_studies_by_patient"),
        "studies by accession": ("study", (Equal("accession_number", ("A3",)),), "dicomweb_studies_by_accession"),
        "studies in a date range": ("study", (Range("study_date", "20200301", "20200401"),), "dicomweb_studies_by_date"),
        "a study by UID": ("study", (Equal("study_uid", ("1.2.3",)),), "dicomweb_studies_key"),
        "studies by name": ("study", (Wildcard("patient_name", "SMITH*", nocase=True),), "dicomweb_studies_by_name"),
        "studies by any name": ("study", (Wildcard("patient_name", "*", nocase=True),), "dicomweb_studies_by_update"),
        "series of a study": ("series", (Equal("study_uid", ("1.2.3",)),), "dicomweb_series_by_study"),
        "series by UID": ("series", (Equal("series_uid", ("1.2.3.3",)),), "dicomweb_series_by_uid"),
        "all series": ("series", (), "dicomweb_series_by_number"),
        "instances of a series": (
            "instance", (Equal("study_uid", ("1.2.3",)), Equal("series_uid", ("1.2.3.3",))), "dicomweb_instances_by_series"
        ),
        "instances of a study": ("instance", (Equal("study_uid", ("1.2.3",)),), "dicomweb_instances_by_study"),
        "an instance by UID": ("instance", (Equal("sop_uid", ("1.2.3.3.1",)),), "dicomweb_instances_by_sop"),
        "all instances": ("instance", (), "dicomweb_instances_by_number"),
    }
    with store.read() as conn:
        for name, (level, matches, index) in by.items():
            query = QidoQuery(level, datastore_id, None, matches, limit=100, offset=0)  # type: ignore[arg-type]
            plan = dicomweb_search.query_plan(conn, query)
            text = " | ".join(plan)
            assert plan[0].startswith("SEARCH") and index in plan[0], f"{name}: {text}"  # never a SCAN of a table
            if index.endswith(("_by_update", "_by_number")):
                assert "TEMP B-TREE" not in text, f"{name} sorts instead of reading in order: {text}"
            assert len(dicomweb_search.search(conn, query)) > 0, name
    store.close()
