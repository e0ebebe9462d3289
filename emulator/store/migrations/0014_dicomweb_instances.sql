-- The DICOMweb index (emulator/store/dicomweb_index.py, docs/dicomweb.md#the-instance-index): what QIDO-RS
-- matches and returns and where WADO-RS finds an instance, for the latest readable version of every live
-- image set. Rewritten in the same transaction as every write of an image set.

-- One row per image set holding a study (scope = its image set id), plus one row per study of a data
-- store aggregating its primary image sets (scope = ''): what a study search without imageSetId reads.
CREATE TABLE dicomweb_studies (
    datastore_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    is_primary INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    patient_id TEXT,
    patient_name TEXT,
    patient_birth_date TEXT,
    patient_sex TEXT,
    study_date TEXT,
    study_time TEXT,
    accession_number TEXT,
    study_id TEXT,
    referring_physician_name TEXT,
    study_description TEXT,
    -- Modalities of the study's series, sorted, joined with backslashes (a DICOM multi-value).
    modalities TEXT,
    series_count INTEGER NOT NULL,
    instance_count INTEGER NOT NULL
);

CREATE UNIQUE INDEX dicomweb_studies_key ON dicomweb_studies (datastore_id, scope, study_uid);
-- Searches read the primary rows only: their indexes leave the other rows out (the tables are rowid
-- tables, so an index entry ends in an 8-byte rowid rather than a copy of a long text key).
-- PatientName rides along so a name search (wildcards, fuzzy) filters the index without reading each row.
CREATE INDEX dicomweb_studies_by_update ON dicomweb_studies (datastore_id, updated_ms, study_uid, patient_name) WHERE scope = '';
CREATE INDEX dicomweb_studies_by_patient ON dicomweb_studies (datastore_id, patient_id) WHERE scope = '';
CREATE INDEX dicomweb_studies_by_accession ON dicomweb_studies (datastore_id, accession_number) WHERE scope = '';
CREATE INDEX dicomweb_studies_by_date ON dicomweb_studies (datastore_id, study_date) WHERE scope = '';
CREATE INDEX dicomweb_studies_by_study_id ON dicomweb_studies (datastore_id, study_id) WHERE scope = '';
-- PatientName in lower case: a name pattern with leading text (SMITH*) seeks it (names match in any case).
CREATE INDEX dicomweb_studies_by_name ON dicomweb_studies (datastore_id, lower(patient_name)) WHERE scope = '';
-- The primary image sets' rows of one study: what rebuilding its aggregate row reads.
CREATE INDEX dicomweb_studies_members ON dicomweb_studies (datastore_id, study_uid) WHERE scope != '' AND is_primary = 1;

-- One row per series of an image set, with its study's attributes (series searches match on both).
CREATE TABLE dicomweb_series (
    image_set_id TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    datastore_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    is_primary INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    study_uid TEXT NOT NULL,
    patient_id TEXT,
    patient_name TEXT,
    patient_birth_date TEXT,
    patient_sex TEXT,
    study_date TEXT,
    study_time TEXT,
    accession_number TEXT,
    study_id TEXT,
    referring_physician_name TEXT,
    study_description TEXT,
    modality TEXT,
    series_number INTEGER,
    series_description TEXT,
    pps_start_date TEXT,
    pps_start_time TEXT,
    instance_count INTEGER NOT NULL
);

CREATE UNIQUE INDEX dicomweb_series_key ON dicomweb_series (image_set_id, series_uid);
CREATE INDEX dicomweb_series_by_study ON dicomweb_series (datastore_id, study_uid, series_number) WHERE is_primary = 1;
CREATE INDEX dicomweb_series_by_uid ON dicomweb_series (datastore_id, series_uid) WHERE is_primary = 1;
CREATE INDEX dicomweb_series_by_number ON dicomweb_series (datastore_id, series_number, series_uid) WHERE is_primary = 1;
CREATE INDEX dicomweb_series_by_patient ON dicomweb_series (datastore_id, patient_id) WHERE is_primary = 1;

-- One row per instance of an image set.
CREATE TABLE dicomweb_instances (
    image_set_id TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    datastore_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    is_primary INTEGER NOT NULL,
    study_uid TEXT NOT NULL,
    sop_class_uid TEXT,
    instance_number INTEGER,
    image_rows INTEGER,
    image_columns INTEGER,
    bits_allocated INTEGER,
    number_of_frames INTEGER
);

CREATE UNIQUE INDEX dicomweb_instances_key ON dicomweb_instances (image_set_id, series_uid, sop_uid);
CREATE INDEX dicomweb_instances_by_series ON dicomweb_instances (datastore_id, series_uid, instance_number) WHERE is_primary = 1;
CREATE INDEX dicomweb_instances_by_study ON dicomweb_instances (datastore_id, study_uid, instance_number) WHERE is_primary = 1;
CREATE INDEX dicomweb_instances_by_sop ON dicomweb_instances (datastore_id, sop_uid) WHERE is_primary = 1;
CREATE INDEX dicomweb_instances_by_number ON dicomweb_instances (datastore_id, instance_number, sop_uid) WHERE is_primary = 1;

-- The warning reason codes an import recorded for an instance (by SOP Instance UID within a data store,
-- so copies of the instance carry them): (0008,1196) of instance search results.
CREATE TABLE dicomweb_instance_warnings (
    datastore_id TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    codes TEXT NOT NULL,
    PRIMARY KEY (datastore_id, sop_uid)
) WITHOUT ROWID;

-- Image sets written before this migration: indexed from their documents when the endpoint starts
-- (SQL cannot read the gzip-compressed documents), then removed from here.
CREATE TABLE dicomweb_index_backlog (
    image_set_id TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

INSERT INTO dicomweb_index_backlog (image_set_id) SELECT image_set_id FROM image_sets;
