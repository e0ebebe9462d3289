"""The version diff (services.metadata_diff): levels, kinds, whole series/instances, and the two properties
any diff must have: a document against itself is empty, and applying the diff to the first document gives
the second."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ahi.services.metadata_diff import ABSENT, Kind, Level, apply, counts, diff, grouped

SERIES = "1.2.3"
SOP = "1.2.3.4"


def document() -> dict[str, Any]:
    return {
        "SchemaVersion": "1.1",
        "ImageSetID": "a" * 32,
        "Patient": {"DICOM": {"PatientName": "Doe^John", "PatientID": "P1"}},
        "Study": {
            "DICOM": {"StudyDescription": "CHEST", "StudyInstanceUID": "1.2"},
            "Series": {
                SERIES: {
                    "DICOM": {"Modality": "CT", "SeriesNumber": "1"},
                    "Instances": {
                        SOP: {"DICOM": {"InstanceNumber": "1", "SliceThickness": "1.0"}, "ImageFrames": [{"ID": "f1"}]},
                    },
                },
            },
        },
    }


def test_a_document_against_itself_is_empty() -> None:
    assert diff(document(), document()) == []


def test_each_change_names_its_level_kind_and_values() -> None:
    old, new = document(), document()
    new["Patient"]["DICOM"]["PatientName"] = "Roe^Jane"
    del new["Study"]["DICOM"]["StudyDescription"]
    new["Study"]["Series"][SERIES]["DICOM"]["SeriesDescription"] = "AXIAL"
    new["Study"]["Series"][SERIES]["Instances"][SOP]["DICOM"]["SliceThickness"] = "2.0"
    changes = diff(old, new)
    found = [(c.level, c.kind, c.name, c.old, c.new) for c in changes]
    assert found == [
        (Level.PATIENT, Kind.CHANGED, "PatientName", "Doe^John", "Roe^Jane"),
        (Level.STUDY, Kind.REMOVED, "StudyDescription", "CHEST", ABSENT),
        (Level.SERIES, Kind.ADDED, "SeriesDescription", ABSENT, "AXIAL"),
        (Level.INSTANCE, Kind.CHANGED, "SliceThickness", "1.0", "2.0"),
    ]
    assert changes[2].series_uid == SERIES and changes[2].sop_uid is None
    assert changes[3].series_uid == SERIES and changes[3].sop_uid == SOP
    assert counts(changes) == {Kind.ADDED: 1, Kind.CHANGED: 2, Kind.REMOVED: 1}
    assert [(g.level, g.series_uid, g.sop_uid, len(g.changes)) for g in grouped(changes)] == [
        (Level.PATIENT, None, None, 1),
        (Level.STUDY, None, None, 1),
        (Level.SERIES, SERIES, None, 1),
        (Level.INSTANCE, SERIES, SOP, 1),
    ]


def test_a_series_or_instance_in_one_version_only_is_one_change() -> None:
    old, new = document(), document()
    new["Study"]["Series"]["9.9"] = copy.deepcopy(old["Study"]["Series"][SERIES])
    del new["Study"]["Series"][SERIES]["Instances"][SOP]
    changes = diff(old, new)
    assert [(c.level, c.kind, c.name, c.whole) for c in changes] == [
        (Level.SERIES, Kind.ADDED, "9.9", True),
        (Level.INSTANCE, Kind.REMOVED, SOP, True),
    ]


def test_sequences_and_frames_compare_as_one_value_and_json_types_matter() -> None:
    old, new = document(), document()
    old["Study"]["DICOM"]["ReferencedSeq"] = [{"A": "1"}, {"A": "2"}]
    new["Study"]["DICOM"]["ReferencedSeq"] = [{"A": "1"}, {"A": "3"}]
    new["Study"]["Series"][SERIES]["Instances"][SOP]["ImageFrames"] = [{"ID": "f2"}]
    old["Patient"]["DICOM"]["Flag"], new["Patient"]["DICOM"]["Flag"] = 1, True
    changes = diff(old, new)
    assert [c.path[-1] for c in changes] == ["Flag", "ReferencedSeq", "ImageFrames"]
    assert changes[2].level is Level.INSTANCE and changes[2].new == [{"ID": "f2"}]


def test_a_level_whose_json_type_changed_is_one_change() -> None:
    old, new = document(), document()
    new["Patient"] = "not an object"
    changes = diff(old, new)
    assert len(changes) == 1 and changes[0].path == ("Patient",) and changes[0].level is Level.PATIENT
    assert apply(old, changes) == new


KEYS = st.sampled_from(["A", "B", "PatientName", "DICOM", "Series", "Instances", "1.2", "1.3"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "x", "y", "Doe^J"]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)), max_leaves=5)


def levels(attributes: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Documents shaped like metadata (with arbitrary JSON where the walk stops), so the walk goes deep."""
    dicom = st.dictionaries(KEYS, attributes, max_size=3)
    instance = st.fixed_dictionaries({"DICOM": dicom}, optional={"ImageFrames": JSON})
    series = st.fixed_dictionaries({"DICOM": dicom, "Instances": st.dictionaries(st.sampled_from(["4.1", "4.2"]), instance, max_size=2)})
    study = st.fixed_dictionaries({"DICOM": dicom, "Series": st.dictionaries(st.sampled_from(["3.1", "3.2"]), series, max_size=2)})
    return st.fixed_dictionaries({}, optional={"Patient": st.fixed_dictionaries({"DICOM": dicom}), "Study": study, "SchemaVersion": JSON})


DOCUMENTS = st.one_of(levels(JSON), st.dictionaries(KEYS, JSON, max_size=4))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_diff_of_a_document_with_itself_is_empty(doc: dict[str, Any]) -> None:
    assert diff(doc, copy.deepcopy(doc)) == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS, DOCUMENTS)
def test_applying_the_diff_gives_the_second_document(old: dict[str, Any], new: dict[str, Any]) -> None:
    changes = diff(old, new)
    assert apply(old, changes) == new
    assert old == copy.deepcopy(old)  # the first document is left as it was
    assert all(c.old is not ABSENT or c.new is not ABSENT for c in changes)
