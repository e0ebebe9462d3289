-- The importConfiguration a StartDICOMImportJob request carried (docs/import-configuration.md), kept
-- as the request's JSON so GetDICOMImportJob can give it back and a resumed job applies it again.
-- A table of its own: jobs without a configuration have no row.
CREATE TABLE import_job_configurations (
    job_id TEXT NOT NULL PRIMARY KEY REFERENCES import_jobs (job_id),
    configuration TEXT NOT NULL
) WITHOUT ROWID;
