"""Which attributes are normalized to the patient, study and series levels (docs/service.md#normalized-levels).

Keywords of the PS3.6 data dictionary, in the order the guide lists them; everything else stays at
instance level. The guide's own samples also repeat StudyInstanceUID in each series block, so we do too.
"""

from __future__ import annotations

#: Patient Module, Issuer of Patient ID and Patient Group Macros, Clinical Trial Subject Module.
PATIENT_LEVEL: tuple[str, ...] = (
    "PatientName", "PatientID", "IssuerOfPatientID", "IssuerOfPatientIDQualifiersSequence", "TypeOfPatientID",
    "PatientBirthDate", "PatientBirthDateInAlternativeCalendar", "PatientDeathDateInAlternativeCalendar",
    "PatientAlternativeCalendar", "PatientSex", "ReferencedPatientPhotoSequence", "QualityControlSubject",
    "ReferencedPatientSequence", "PatientBirthTime", "OtherPatientIDsSequence", "OtherPatientNames",
    "EthnicGroup", "PatientComments", "PatientSpeciesDescription", "PatientSpeciesCodeSequence",
    "PatientBreedDescription", "PatientBreedCodeSequence", "BreedRegistrationSequence", "StrainDescription",
    "StrainNomenclature", "StrainCodeSequence", "StrainAdditionalInformation", "StrainStockSequence",
    "GeneticModificationsSequence", "ResponsiblePerson", "ResponsiblePersonRole", "ResponsibleOrganization",
    "PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence",
    "SourcePatientGroupIdentificationSequence", "GroupOfPatientsIdentificationSequence",
    "ClinicalTrialSponsorName", "ClinicalTrialProtocolID", "ClinicalTrialProtocolName", "ClinicalTrialSiteID",
    "ClinicalTrialSiteName", "ClinicalTrialSubjectID", "ClinicalTrialSubjectReadingID",
    "ClinicalTrialProtocolEthicsCommitteeName", "ClinicalTrialProtocolEthicsCommitteeApprovalNumber",
)

#: General Study, Patient Study and Clinical Trial Study Modules.
STUDY_LEVEL: tuple[str, ...] = (
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName",
    "ReferringPhysicianIdentificationSequence", "ConsultingPhysicianName",
    "ConsultingPhysicianIdentificationSequence", "StudyID", "AccessionNumber",
    "IssuerOfAccessionNumberSequence", "StudyDescription", "PhysiciansOfRecord",
    "PhysiciansOfRecordIdentificationSequence", "NameOfPhysiciansReadingStudy",
    "PhysiciansReadingStudyIdentificationSequence", "RequestingService", "RequestingServiceCodeSequence",
    "ReferencedStudySequence", "ProcedureCodeSequence", "ReasonForPerformedProcedureCodeSequence",
    "AdmittingDiagnosesDescription", "AdmittingDiagnosesCodeSequence", "PatientAge", "PatientSize",
    "PatientWeight", "PatientBodyMassIndex", "MeasuredAPDimension", "MeasuredLateralDimension",
    "PatientSizeCodeSequence", "MedicalAlerts", "Allergies", "SmokingStatus", "PregnancyStatus",
    "LastMenstrualDate", "PatientState", "Occupation", "AdditionalPatientHistory", "AdmissionID",
    "IssuerOfAdmissionIDSequence", "ReasonForVisit", "ReasonForVisitCodeSequence", "ServiceEpisodeID",
    "IssuerOfServiceEpisodeIDSequence", "ServiceEpisodeDescription", "PatientSexNeutered",
    "ClinicalTrialTimePointID", "ClinicalTrialTimePointDescription", "LongitudinalTemporalOffsetFromEvent",
    "LongitudinalTemporalEventType", "ConsentForClinicalTrialUseSequence",
)

#: General Series, Clinical Trial Series, General Equipment and Frame of Reference Modules.
SERIES_LEVEL: tuple[str, ...] = (
    "Modality", "SeriesInstanceUID", "SeriesNumber", "Laterality", "SeriesDate", "SeriesTime",
    "PerformingPhysicianName", "PerformingPhysicianIdentificationSequence", "ProtocolName",
    "SeriesDescription", "SeriesDescriptionCodeSequence", "OperatorsName", "OperatorIdentificationSequence",
    "ReferencedPerformedProcedureStepSequence", "RelatedSeriesSequence", "BodyPartExamined", "PatientPosition",
    "SmallestPixelValueInSeries", "LargestPixelValueInSeries", "RequestAttributesSequence",
    "AnatomicalOrientationType", "TreatmentSessionUID", "ClinicalTrialCoordinatingCenterName",
    "ClinicalTrialSeriesID", "ClinicalTrialSeriesDescription", "Manufacturer", "InstitutionName",
    "InstitutionAddress", "StationName", "InstitutionalDepartmentName",
    "InstitutionalDepartmentTypeCodeSequence", "ManufacturerModelName", "ManufacturerDeviceClassUID",
    "DeviceSerialNumber", "SoftwareVersions", "GantryID", "UDISequence", "DeviceUID", "SpatialResolution",
    "DateOfLastCalibration", "TimeOfLastCalibration", "PixelPaddingValue", "FrameOfReferenceUID",
    "PositionReferenceIndicator",
)

#: Series blocks repeat the study's UID, as every metadata sample in the guide shows.
SERIES_ALSO: tuple[str, ...] = ("StudyInstanceUID",)

LEVEL_OF: dict[str, str] = {
    **{keyword: "Patient" for keyword in PATIENT_LEVEL},
    **{keyword: "Study" for keyword in STUDY_LEVEL},
    **{keyword: "Series" for keyword in SERIES_LEVEL},
}
