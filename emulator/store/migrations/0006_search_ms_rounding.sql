-- The endpoint's clock ticks in whole milliseconds (the precision the service shows), stored as REAL
-- seconds: 1700000000.123 is 1700000000.1229999… in binary, which 0003's CAST truncated to …122 ms.
-- ROUND recovers the millisecond that was stored. The indexes holding the columns are rebuilt.
DROP INDEX image_sets_search_updated;
DROP INDEX image_sets_search_created;
DROP INDEX image_sets_search_study_time;
DROP INDEX image_sets_search_patient;
DROP INDEX image_sets_search_accession;
DROP INDEX image_sets_search_study_uid;
DROP INDEX image_sets_search_study_id;
DROP INDEX image_sets_search_series_uid;
DROP INDEX image_sets_search_primary;
ALTER TABLE image_sets DROP COLUMN created_ms;
ALTER TABLE image_sets DROP COLUMN updated_ms;

ALTER TABLE image_sets ADD COLUMN created_ms INTEGER GENERATED ALWAYS AS (CAST(ROUND(created_at * 1000) AS INTEGER)) VIRTUAL;
ALTER TABLE image_sets ADD COLUMN updated_ms INTEGER GENERATED ALWAYS AS (CAST(ROUND(updated_at * 1000) AS INTEGER)) VIRTUAL;

CREATE INDEX image_sets_search_updated ON image_sets (datastore_id, updated_ms, seq, created_ms, study_key, is_primary);
CREATE INDEX image_sets_search_created ON image_sets (datastore_id, created_ms, seq, updated_ms, study_key, is_primary);
CREATE INDEX image_sets_search_study_time ON image_sets (datastore_id, study_key, seq, created_ms, updated_ms, is_primary);
CREATE INDEX image_sets_search_patient ON image_sets (datastore_id, patient_id, updated_ms);
CREATE INDEX image_sets_search_accession ON image_sets (datastore_id, accession_number, updated_ms);
CREATE INDEX image_sets_search_study_uid ON image_sets (datastore_id, study_instance_uid, updated_ms);
CREATE INDEX image_sets_search_study_id ON image_sets (datastore_id, study_id, updated_ms);
CREATE INDEX image_sets_search_series_uid ON image_sets (datastore_id, series_instance_uid, updated_ms);
CREATE INDEX image_sets_search_primary ON image_sets (datastore_id, is_primary, updated_ms);
