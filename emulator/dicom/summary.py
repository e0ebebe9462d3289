"""The search fields of an image set, read from its metadata document (SearchImageSets' DICOMTags)."""

from __future__ import annotations

from typing import Any

#: Column of the image_sets search index -> (level, keyword) in the metadata document.
SEARCH_FIELDS: dict[str, tuple[str, str]] = {
    "patient_id": ("Patient", "PatientID"),
    "patient_name": ("Patient", "PatientName"),
    "patient_birth_date": ("Patient", "PatientBirthDate"),
    "patient_sex": ("Patient", "PatientSex"),
    "accession_number": ("Study", "AccessionNumber"),
    "study_instance_uid": ("Study", "StudyInstanceUID"),
    "study_id": ("Study", "StudyID"),
    "study_description": ("Study", "StudyDescription"),
    "study_date": ("Study", "StudyDate"),
    "study_time": ("Study", "StudyTime"),
    "series_instance_uid": ("Series", "SeriesInstanceUID"),
    "series_modality": ("Series", "Modality"),
    "series_body_part": ("Series", "BodyPartExamined"),
    "series_number": ("Series", "SeriesNumber"),
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "\\".join("" if item is None else str(item) for item in value)
    return str(value).strip() or None


def search_fields(document: dict[str, Any]) -> dict[str, Any]:
    """Column -> value for the image_sets search index (the first series when several exist)."""
    study = document.get("Study", {})
    series_blocks = list(study.get("Series", {}).values())
    blocks = {
        "Patient": document.get("Patient", {}).get("DICOM", {}),
        "Study": study.get("DICOM", {}),
        "Series": series_blocks[0].get("DICOM", {}) if series_blocks else {},
    }
    fields: dict[str, Any] = {
        column: _text(blocks[level].get(keyword)) for column, (level, keyword) in SEARCH_FIELDS.items()
    }
    fields["number_of_study_related_series"] = len(series_blocks)
    fields["number_of_study_related_instances"] = sum(len(block.get("Instances", {})) for block in series_blocks)
    return fields
