"""StartDICOMImportJob's `importConfiguration`: the DICOM JSON metadata mappings of a job.

The model has already checked the shape (one union member, 1 to 1000 mappings, the UID patterns, the
path pattern); what is left is what the model cannot say (docs/import-configuration.md#the-request).
Study and series UIDs are sensitive in the model, so messages name a mapping by its position, never
by its UIDs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ahi.emulator.errors import ValidationException

MAPPINGS_FIELD = "importConfiguration.dicomJsonMetadataImportConfiguration.dicomMetadataMappings"


@dataclass(frozen=True)
class MetadataMapping:
    """One mapping: the JSON file at `metadata_file_path` (under the input prefix) for a study or one series."""

    #: 1-based, as validation messages count members.
    position: int
    study_instance_uid: str
    series_instance_uid: str | None
    metadata_file_path: str

    def covers(self, study_instance_uid: str, series_instance_uid: str) -> bool:
        """Whether an instance of this study and series is one the mapping applies to."""
        if study_instance_uid != self.study_instance_uid:
            return False
        return self.series_instance_uid is None or series_instance_uid == self.series_instance_uid

    @property
    def scope(self) -> str:
        """What the mapping names, without its UIDs: for messages."""
        level = "study" if self.series_instance_uid is None else "series"
        return f"mapping {self.position} ({level} level, metadataFilePath {self.metadata_file_path})"


def mappings_of(configuration: dict[str, Any] | None) -> list[MetadataMapping]:
    """The mappings of a stored or requested configuration (none without one)."""
    if not configuration:
        return []
    members = configuration["dicomJsonMetadataImportConfiguration"]["dicomMetadataMappings"]
    return [
        MetadataMapping(
            position=index,
            study_instance_uid=member["studyInstanceUID"],
            series_instance_uid=member.get("seriesInstanceUID") or None,
            metadata_file_path=member["metadataFilePath"],
        )
        for index, member in enumerate(members, start=1)
    ]


def check_configuration(configuration: dict[str, Any] | None) -> dict[str, Any] | None:
    """The configuration to keep with the job, or ValidationException for what the model cannot catch.

    Two mappings for the same study and series would each claim the same elements; which one wins
    would be a guess, so such a request is refused (our choice: public material is silent).
    """
    if not configuration:
        return None
    seen: dict[tuple[str, str | None], int] = {}
    for mapping in mappings_of(configuration):
        key = (mapping.study_instance_uid, mapping.series_instance_uid)
        earlier = seen.setdefault(key, mapping.position)
        if earlier != mapping.position:
            level = "studyInstanceUID" if mapping.series_instance_uid is None else "studyInstanceUID and seriesInstanceUID"
            raise ValidationException(
                f"Value at '{MAPPINGS_FIELD}.{mapping.position}.member' failed to satisfy constraint: its {level} "
                f"repeat those of member {earlier}; map each study or series once"
            )
    members = configuration["dicomJsonMetadataImportConfiguration"]["dicomMetadataMappings"]
    return {
        "dicomJsonMetadataImportConfiguration": {
            "dicomMetadataMappings": [
                {name: member[name] for name in ("studyInstanceUID", "seriesInstanceUID", "metadataFilePath") if member.get(name)}
                for member in members
            ]
        }
    }
