"""The AWS CLI runs `search-image-sets` with a `--search-criteria file://...` criteria file, as the guide shows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from datastore_waits import active_datastore
from search_seed import Seed, search_all, seed_image_sets
from test_awscli import AWS, as_boto3, aws

pytestmark = pytest.mark.awscli

T0 = 1_700_000_000.0


def write_criteria(tmp_path: Path, criteria: dict[str, Any]) -> str:
    path = tmp_path / "search-criteria.json"
    path.write_text(json.dumps(criteria), encoding="utf-8")
    return f"file://{path}"


def search_cli(datastore_id: str, criteria_file: str, *extra: str) -> Any:
    return aws("search-image-sets", "--datastore-id", datastore_id, "--search-criteria", criteria_file, *extra)


def test_cli_search_with_a_criteria_file_pages_like_boto3(
    aws_env: dict[str, str], endpoint: Any, mi: Any, tmp_path: Path
) -> None:
    datastore_id = active_datastore(mi, datastoreName="cli-search")["datastoreId"]
    seeds = [
        Seed(created_at=T0 + n, patient_id="SUBJECT08701" if n % 3 else "OTHER", study_date=f"2020010{n + 1}")
        for n in range(7)
    ]
    ids = seed_image_sets(endpoint.runtime.store, datastore_id, seeds)
    criteria = {
        "filters": [
            {"values": [{"DICOMPatientId": "SUBJECT08701"}], "operator": "EQUAL"},
            {
                "values": [{"createdAt": "1985-04-12T23:20:50.52Z"}, {"createdAt": "2030-01-01T00:00:00.000000-07:00"}],
                "operator": "BETWEEN",
            },
        ],
        "sort": {"sortField": "createdAt", "sortOrder": "ASC"},
    }
    found = search_cli(datastore_id, write_criteria(tmp_path, criteria), "--page-size", "2")
    assert [summary["imageSetId"] for summary in found["imageSetsMetadataSummaries"]] == [ids[n] for n in (1, 2, 4, 5)]
    boto3_criteria = {**criteria, "filters": [criteria["filters"][0]]}
    expected = search_all(mi, datastore_id, searchCriteria=boto3_criteria, PaginationConfig={"PageSize": 2})
    assert as_boto3(found["imageSetsMetadataSummaries"]) == expected
    assert found["sort"] == {"sortField": "createdAt", "sortOrder": "ASC"}

    study_dates = {
        "filters": [
            {
                "values": [
                    {"DICOMStudyDateAndTime": {"DICOMStudyDate": "20200102", "DICOMStudyTime": "000000.000"}},
                    {"DICOMStudyDateAndTime": {"DICOMStudyDate": "20200104"}},
                ],
                "operator": "BETWEEN",
            }
        ]
    }
    found = search_cli(datastore_id, write_criteria(tmp_path, study_dates))
    assert [summary["imageSetId"] for summary in found["imageSetsMetadataSummaries"]] == [ids[3], ids[2], ids[1]]


def test_cli_reports_which_filter_is_wrong(aws_env: dict[str, str], mi: Any, tmp_path: Path) -> None:
    datastore_id = active_datastore(mi, datastoreName="cli-search-errors")["datastoreId"]
    criteria = {"filters": [{"values": [{"createdAt": "2024-03-11T15:00:05Z"}], "operator": "EQUAL"}]}
    criteria_file = write_criteria(tmp_path, criteria)
    done = subprocess.run(
        [str(AWS), "medical-imaging", "search-image-sets", "--datastore-id", datastore_id]
        + ["--search-criteria", criteria_file],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ValidationException" in done.stderr
    assert "searchCriteria.filters.1.member: operator EQUAL is not supported for createdAt" in done.stderr
