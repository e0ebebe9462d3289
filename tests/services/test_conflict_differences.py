"""The conflict computation: which elements make a non-primary image set disagree with its primary one."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ahi.services.conflicts import Member, compare, counterpart, job_roles, study_conflicts, study_criteria
from ahi.services.imagesets import ImageSetSummary
from ahi.services.job_output import ImageSetSummary as ManifestImageSet

STUDY = "1.2.3"
SERIES = "1.2.3.4"


def document(patient_name: str = "Doe^John", modality: str = "CT", sops: tuple[str, ...] = ("1.2.3.4.1",), series: str = SERIES, **study: Any) -> dict[str, Any]:
    return {
        "SchemaVersion": "1.1",
        "Patient": {"DICOM": {"PatientID": "P1", "PatientName": patient_name}},
        "Study": {
            "DICOM": {"StudyInstanceUID": STUDY, "StudyDescription": "Chest", **study},
            "Series": {series: {"DICOM": {"SeriesInstanceUID": series, "Modality": modality}, "Instances": {sop: {"DICOM": {}} for sop in sops}}},
        },
    }


def member(image_set_id: str, primary: bool, doc: dict[str, Any] | None, minute: int = 0, error: str | None = None) -> Member:
    summary = ImageSetSummary(image_set_id, "ds", 1, datetime(2026, 1, 1, 9, minute, tzinfo=timezone.utc), None, {}, primary)
    return Member(summary, doc, error)


def test_a_changed_patient_name_is_the_one_difference_with_both_values() -> None:
    differences, shared = compare(document(), document("Doe^Johnny", sops=("1.2.3.4.9",)))
    assert [(d.level, d.keyword, d.primary_value, d.sibling_value) for d in differences] == [("Patient", "PatientName", "Doe^John", "Doe^Johnny")]
    assert shared == 0


def test_a_re_import_of_the_same_files_is_a_duplicate_without_differences() -> None:
    differences, shared = compare(document(sops=("a", "b")), document(sops=("b", "a")))
    assert differences == [] and shared == 2


def test_study_and_series_elements_and_one_sided_keywords_count() -> None:
    primary = document(StudyDate="20240101")
    sibling = document(modality="MR", AccessionNumber="A1")
    found = {(d.level, d.keyword): d for d in compare(primary, sibling)[0]}
    assert set(found) == {("Study", "StudyDate"), ("Study", "AccessionNumber"), ("Series", "Modality")}
    assert found[("Study", "StudyDate")].primary_has and not found[("Study", "StudyDate")].sibling_has
    assert not found[("Study", "AccessionNumber")].primary_has
    assert found[("Series", "Modality")].series_uid == SERIES


def test_series_elements_are_compared_only_for_a_series_both_hold() -> None:
    differences, shared = compare(document(), document(modality="MR", series="9.9"))
    assert differences == [] and shared == 0


def test_the_fix_sets_the_primary_value_or_removes_what_the_primary_lacks() -> None:
    name, accession = (
        next(d for d in compare(document(), document("X", AccessionNumber="A1"))[0] if d.keyword == k) for k in ("PatientName", "AccessionNumber")
    )
    assert json.loads(name.fix().payload()["DICOMUpdates"]["updatableAttributes"]) == {"SchemaVersion": "1.1", "Patient": {"DICOM": {"PatientName": "Doe^John"}}}
    assert json.loads(accession.fix().payload()["DICOMUpdates"]["removableAttributes"]) == {"SchemaVersion": "1.1", "Study": {"DICOM": {"AccessionNumber": "A1"}}}


def test_a_study_groups_each_non_primary_image_set_under_the_primary_holding_its_series() -> None:
    other_series = member("p2", True, document(series="5.5", sops=("5.5.1",)), minute=1)
    holder = member("p1", True, document(), minute=2)
    renamed = member("n1", False, document("Doe^Jon", sops=("x",)), minute=3)
    unread = member("n2", False, None, minute=4, error="AccessDeniedException")
    study = study_conflicts(STUDY, [unread, renamed, holder, other_series])
    assert [p.id for p in study.primaries] == ["p2", "p1"]
    assert [(s.member.id, s.primary.id if s.primary else None) for s in study.siblings] == [("n1", "p1"), ("n2", "p2")]
    assert study.siblings[0].reason() == "Patient: PatientName"
    assert study.siblings[1].reason() == "metadata not read: AccessDeniedException"
    assert [s.member.id for s in study.siblings_of("p1")] == ["n1"]
    assert counterpart([], renamed) is None
    assert study_conflicts(STUDY, [renamed]).siblings[0].reason().startswith("no primary image set")


def test_the_duplicate_reason_and_search_criteria() -> None:
    study = study_conflicts(STUDY, [member("p", True, document(sops=("a",))), member("n", False, document(sops=("a",)), minute=1)])
    assert study.siblings[0].reason() == "duplicates 1 instance(s) of the primary"
    assert study_criteria(STUDY) == {"filters": [{"operator": "EQUAL", "values": [{"DICOMStudyInstanceUID": STUDY}]}]}


def test_job_roles_counts_primary_non_primary_and_unstated() -> None:
    entries = [ManifestImageSet("a", is_primary=True), ManifestImageSet("b", is_primary=False), ManifestImageSet("c"), ManifestImageSet("d", is_primary=False)]
    assert job_roles(entries) == (1, 2, 1)
