"""QIDO-RS results: index rows as DICOM JSON datasets, with the attributes PS3.18 returns by default.

Each level returns PS3.18's default attributes (Table 6.7.1-2) the index holds; a search whose path
leaves the study (or series) open also returns that level's defaults. `includefield` adds attributes
taken from the index when it holds them, else from the image set's metadata document (the Patient, Study,
Series and instance blocks the result's level reaches); `includefield=all` adds every element of those
blocks. Absent values are left out rather than sent empty (docs/dicomweb.md#qido-rs).
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ahi.emulator.dicomweb.dicom_json import attribute
from ahi.emulator.dicomweb.elements import tag_of
from ahi.emulator.dicomweb.wado_json import bulk_data_key, instance_json
from ahi.emulator.store import dicomweb_index, imagesets
from ahi.emulator.store.dicomweb_search import Level, study_member

#: (keyword, index column) of the defaults each level's rows give.
STUDY_COMMON = (
    ("StudyDate", "study_date"),
    ("StudyTime", "study_time"),
    ("AccessionNumber", "accession_number"),
    ("ReferringPhysicianName", "referring_physician_name"),
    ("PatientName", "patient_name"),
    ("PatientID", "patient_id"),
    ("PatientBirthDate", "patient_birth_date"),
    ("PatientSex", "patient_sex"),
    ("StudyInstanceUID", "study_uid"),
    ("StudyID", "study_id"),
    ("StudyDescription", "study_description"),
)
STUDY_ONLY = (
    ("ModalitiesInStudy", "modalities"),
    ("NumberOfStudyRelatedSeries", "series_count"),
    ("NumberOfStudyRelatedInstances", "instance_count"),
)
SERIES = (
    ("Modality", "modality"),
    ("SeriesDescription", "series_description"),
    ("SeriesInstanceUID", "series_uid"),
    ("SeriesNumber", "series_number"),
    ("PerformedProcedureStepStartDate", "pps_start_date"),
    ("PerformedProcedureStepStartTime", "pps_start_time"),
    ("StudyInstanceUID", "study_uid"),
)
SERIES_ONLY = (("NumberOfSeriesRelatedInstances", "instance_count"),)
INSTANCE = (
    ("SOPClassUID", "sop_class_uid"),
    ("SOPInstanceUID", "sop_uid"),
    ("InstanceNumber", "instance_number"),
    ("Rows", "image_rows"),
    ("Columns", "image_columns"),
    ("BitsAllocated", "bits_allocated"),
    ("NumberOfFrames", "number_of_frames"),
    ("StudyInstanceUID", "study_uid"),
    ("SeriesInstanceUID", "series_uid"),
)


@functools.cache
def _tags() -> tuple[dict[str, tuple[str, str]], str, str, str]:
    """Keyword -> (8-hex tag, VR) of every attribute a result takes from the index (none has an ambiguous VR),
    then the tags of InstanceAvailability, RetrieveURL and WarningReason.

    Made on the first search: the data dictionary is pydicom's, which the endpoint's start does not load (docs/startup.md).
    """
    from pydicom.datadict import dictionary_VR

    elements = {
        keyword: (f"{tag_of(keyword):08X}", dictionary_VR(keyword))
        for keyword, _ in (*STUDY_COMMON, *STUDY_ONLY, *SERIES, *SERIES_ONLY, *INSTANCE)
    }
    availability, retrieve_url, warning_reason = (f"{tag_of(name):08X}" for name in ("InstanceAvailability", "RetrieveURL", "WarningReason"))
    return elements, availability, retrieve_url, warning_reason


@dataclass
class ResultSet:
    """How to render one search's rows."""

    level: Level
    datastore_id: str
    #: `/datastore/<id>` on this endpoint, scheme and host included.
    base_url: str
    image_set_id: str | None
    #: Whether the path fixed the study (and the series): their defaults are then left out.
    study_in_path: bool = False
    series_in_path: bool = False
    #: Tags asked for with includefield; None for all.
    include: frozenset[int] | None = frozenset()
    _documents: dict[tuple[str, int], dict[str, Any] | None] = field(default_factory=dict)

    def row_columns(self) -> tuple[tuple[str, str], ...]:
        """Every (keyword, column) a row of this level holds."""
        if self.level == "study":
            return STUDY_COMMON + STUDY_ONLY
        if self.level == "series":
            return STUDY_COMMON + SERIES + SERIES_ONLY
        return STUDY_COMMON + SERIES + INSTANCE

    def default_columns(self) -> tuple[tuple[str, str], ...]:
        """The (keyword, column) pairs returned without includefield."""
        if self.level == "study":
            return STUDY_COMMON + STUDY_ONLY
        study = () if self.study_in_path else STUDY_COMMON
        if self.level == "series":
            return study + SERIES + SERIES_ONLY
        series = () if self.series_in_path else SERIES
        return study + series + INSTANCE

    def render(self, conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
        """The DICOM JSON dataset of each row, in order."""
        warnings = (
            dicomweb_index.warnings_of(conn, self.datastore_id, [row["sop_uid"] for row in rows])
            if self.level == "instance"
            else {}
        )
        return [self._one(conn, row, warnings.get(row.get("sop_uid", ""), [])) for row in rows]

    @functools.cached_property
    def _columns(self) -> list[tuple[str, str, int, str, bool]]:
        """(column, 8-hex tag, tag, VR, returned unasked) of every attribute a row of this level holds."""
        elements = _tags()[0]
        defaults = {keyword for keyword, _ in self.default_columns()}
        found = []
        for keyword, column in self.row_columns():
            tag, vr = elements[keyword]
            found.append((column, tag, int(tag, 16), vr, keyword in defaults))
        return found

    def _one(self, conn: sqlite3.Connection, row: dict[str, Any], warnings: list[int]) -> dict[str, dict[str, Any]]:
        _, availability, retrieve_url, warning_reason = _tags()
        include = self.include
        encoded: dict[str, dict[str, Any]] = {}
        from_row = [(column, *rest) for column, *rest in self._columns if row.get(column) is not None]
        if include is None or include - {number for _, _, number, _, _ in from_row}:
            attributes, vrs = self._from_document(conn, row)
            attributes.pop("PixelData", None)  # a search returns no pixels
            found = instance_json(attributes, vrs, "", self._bulk_uri(row))
            encoded.update(found if include is None else {key: found[key] for key in found if int(key, 16) in include})
        for column, tag, number, vr, unasked in from_row:
            if unasked or include is None or number in include:
                encoded[tag] = attribute(vr, _value(row[column]))
        encoded[availability] = attribute("CS", "ONLINE")
        encoded[retrieve_url] = attribute("UR", self._retrieve_url(row))
        if warnings:
            encoded[warning_reason] = attribute("US", warnings)
        return dict(sorted(encoded.items()))

    def _bulk_uri(self, row: dict[str, Any]) -> Any:
        """Where a large binary value of the result is served (an instance's bulk data resource)."""
        instance = self._retrieve_url(row).partition("?")[0]
        suffix = "" if self.image_set_id is None else f"?imageSetId={self.image_set_id}"
        return lambda tag_path: f"{instance}/bulkdata/{bulk_data_key(tag_path)}{suffix}"

    def _retrieve_url(self, row: dict[str, Any]) -> str:
        url = f"{self.base_url}/studies/{quote(row['study_uid'], safe='')}"
        if self.level in ("series", "instance"):
            url += f"/series/{quote(row['series_uid'], safe='')}"
        if self.level == "instance":
            url += f"/instances/{quote(row['sop_uid'], safe='')}"
        return url if self.image_set_id is None else f"{url}?imageSetId={self.image_set_id}"

    def _from_document(self, conn: sqlite3.Connection, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The attributes (and recorded VRs) of the document blocks this row reaches: Patient and Study,
        then the series', then the instance's."""
        if self.level == "study":
            member = study_member(conn, self.datastore_id, row["study_uid"], self.image_set_id)
        else:
            member = (row["image_set_id"], int(row["version"]))
        document = None if member is None else self._document(conn, member)
        if document is None:
            return {}, {}
        study = document.get("Study") or {}
        attributes = {**((document.get("Patient") or {}).get("DICOM") or {}), **(study.get("DICOM") or {})}
        vrs: dict[str, str] = {}
        if self.level != "study":
            series = (study.get("Series") or {}).get(row["series_uid"]) or {}
            attributes.update(series.get("DICOM") or {})
            if self.level == "instance":
                instance = (series.get("Instances") or {}).get(row["sop_uid"]) or {}
                attributes.update(instance.get("DICOM") or {})
                vrs = dict(instance.get("DICOMVRs") or {})
        return attributes, vrs

    def _document(self, conn: sqlite3.Connection, member: tuple[str, int]) -> dict[str, Any] | None:
        if member not in self._documents:
            self._documents[member] = imagesets.load_document(conn, *member)
        return self._documents[member]


def _value(stored: Any) -> Any:
    """An index value as a document value: backslash-joined text is a multi-value."""
    if isinstance(stored, str) and "\\" in stored:
        return stored.split("\\")
    return stored
