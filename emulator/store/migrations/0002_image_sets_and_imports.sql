-- Image sets (with versions and frames) and DICOM import jobs.

-- One row per image set: identity plus the search index of its latest version. Search (issue 5)
-- reads these columns; they are rewritten whenever a new version becomes the latest.
CREATE TABLE image_sets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    image_set_id TEXT NOT NULL UNIQUE,
    datastore_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    latest_version INTEGER NOT NULL,
    is_primary INTEGER NOT NULL DEFAULT 1,
    import_job_id TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    deleted_at REAL,
    patient_id TEXT,
    patient_name TEXT,
    patient_birth_date TEXT,
    patient_sex TEXT,
    accession_number TEXT,
    study_instance_uid TEXT,
    study_id TEXT,
    study_description TEXT,
    study_date TEXT,
    study_time TEXT,
    series_instance_uid TEXT,
    series_modality TEXT,
    series_body_part TEXT,
    series_number TEXT,
    number_of_study_related_series INTEGER,
    number_of_study_related_instances INTEGER
);

CREATE INDEX image_sets_by_datastore ON image_sets (datastore_id, seq);
CREATE INDEX image_sets_by_job ON image_sets (import_job_id);
CREATE INDEX image_sets_by_patient ON image_sets (datastore_id, patient_id);
CREATE INDEX image_sets_by_accession ON image_sets (datastore_id, accession_number);
CREATE INDEX image_sets_by_study ON image_sets (datastore_id, study_instance_uid);
CREATE INDEX image_sets_by_series ON image_sets (datastore_id, series_instance_uid);
CREATE INDEX image_sets_by_study_date ON image_sets (datastore_id, study_date, study_time);
CREATE INDEX image_sets_by_created ON image_sets (datastore_id, created_at);
CREATE INDEX image_sets_by_updated ON image_sets (datastore_id, updated_at);
CREATE INDEX image_sets_by_primary ON image_sets (datastore_id, is_primary);

-- Every version of every image set. `metadata` is the gzip-compressed JSON document of that version;
-- NULL while a version is still being written (a LOCKED version whose document is not ready).
CREATE TABLE image_set_versions (
    image_set_id TEXT NOT NULL REFERENCES image_sets (image_set_id),
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    workflow_status TEXT NOT NULL,
    message TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    deleted_at REAL,
    forced INTEGER,
    metadata BLOB,
    metadata_size INTEGER,
    PRIMARY KEY (image_set_id, version)
) WITHOUT ROWID;

-- The frames an image set may serve. The bytes live in files under the state directory's `frames/`
-- (`path` is relative to it); the row is the commit point, so a frame exists once its row does.
-- Copies may reference the same file from another image set.
CREATE TABLE image_frames (
    image_set_id TEXT NOT NULL REFERENCES image_sets (image_set_id),
    frame_id TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (image_set_id, frame_id)
) WITHOUT ROWID;

CREATE INDEX image_frames_by_path ON image_frames (path);

CREATE TABLE import_jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    datastore_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    job_name TEXT NOT NULL,
    status TEXT NOT NULL,
    data_access_role_arn TEXT NOT NULL,
    input_s3_uri TEXT NOT NULL,
    output_s3_uri TEXT NOT NULL,
    input_owner_account_id TEXT,
    submitted_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    message TEXT
);

CREATE INDEX import_jobs_by_datastore ON import_jobs (datastore_id, seq);
CREATE INDEX import_jobs_unfinished ON import_jobs (status) WHERE status IN ('SUBMITTED', 'IN_PROGRESS');

-- What became of each input file of a job, written as the job goes, so a resumed job skips files
-- already done and the output files can be written from here. `detail` is JSON: the exception of a
-- failure, or the warnings of a success.
CREATE TABLE import_job_files (
    job_id TEXT NOT NULL REFERENCES import_jobs (job_id),
    input_file TEXT NOT NULL,
    outcome TEXT NOT NULL,
    image_set_id TEXT,
    customer_error INTEGER NOT NULL DEFAULT 0,
    detail TEXT,
    PRIMARY KEY (job_id, input_file)
) WITHOUT ROWID;
