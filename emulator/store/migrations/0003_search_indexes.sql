-- SearchImageSets (emulator/store/search.py): sort keys as the summaries show them, a change counter
-- that keeps paging stable under concurrent writes, and one index per filter/sort access path.

-- Timestamps as the whole milliseconds a summary carries, so filters and sort agree with what is shown.
ALTER TABLE image_sets ADD COLUMN created_ms INTEGER GENERATED ALWAYS AS (CAST(created_at * 1000 AS INTEGER)) VIRTUAL;
ALTER TABLE image_sets ADD COLUMN updated_ms INTEGER GENERATED ALWAYS AS (CAST(updated_at * 1000 AS INTEGER)) VIRTUAL;

-- StudyDate + StudyTime as one sortable text 'YYYYMMDDHHMMSSffffff': a missing time is the start of the
-- day, short DICOM TM forms (HH, HHMM) and fractions are padded, old 'YYYY.MM.DD' / 'HH:MM:SS' forms are
-- read; '' when there is no StudyDate (sorts first ascending, last descending, never matches a range).
ALTER TABLE image_sets ADD COLUMN study_key TEXT GENERATED ALWAYS AS (COALESCE(
    replace(replace(study_date, '.', ''), '-', '')
    || substr(CASE WHEN instr(replace(COALESCE(study_time, ''), ':', ''), '.') > 0
                   THEN substr(replace(study_time, ':', ''), 1, instr(replace(study_time, ':', ''), '.') - 1)
                   ELSE replace(COALESCE(study_time, ''), ':', '') END || '000000', 1, 6)
    || substr(CASE WHEN instr(COALESCE(study_time, ''), '.') > 0
                   THEN substr(study_time, instr(study_time, '.') + 1)
                   ELSE '' END || '000000', 1, 6),
    '')) VIRTUAL;

-- Paging stays stable while image sets change: a search remembers, at its first page, the highest `seq`
-- (rows inserted later are not part of it) and the `search_clock` revision; every UPDATE of a row stamps
-- it with the next revision, so later pages can leave out rows changed since the first page.
ALTER TABLE image_sets ADD COLUMN search_revision INTEGER;

CREATE TABLE search_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO search_clock (id, revision) VALUES (1, 0);

CREATE TRIGGER image_sets_search_revision AFTER UPDATE ON image_sets
WHEN NEW.search_revision IS OLD.search_revision
BEGIN
    UPDATE search_clock SET revision = revision + 1 WHERE id = 1;
    UPDATE image_sets SET search_revision = (SELECT revision FROM search_clock WHERE id = 1) WHERE seq = NEW.seq;
END;

-- The search indexes of 0002 are replaced by ones that also order by the default sort (updatedAt).
DROP INDEX image_sets_by_patient;
DROP INDEX image_sets_by_accession;
DROP INDEX image_sets_by_study;
DROP INDEX image_sets_by_series;
DROP INDEX image_sets_by_study_date;
DROP INDEX image_sets_by_created;
DROP INDEX image_sets_by_updated;
DROP INDEX image_sets_by_primary;

-- One index per sort field, in (sort key, seq) order (the keyset), covering the range and isPrimary
-- filters so that rows failing them are skipped without reading the table.
CREATE INDEX image_sets_search_updated ON image_sets (datastore_id, updated_ms, seq, created_ms, study_key, is_primary);
CREATE INDEX image_sets_search_created ON image_sets (datastore_id, created_ms, seq, updated_ms, study_key, is_primary);
CREATE INDEX image_sets_search_study_time ON image_sets (datastore_id, study_key, seq, created_ms, updated_ms, is_primary);
-- One per EQUAL key, in the default order (updatedAt); the implicit trailing rowid is seq.
CREATE INDEX image_sets_search_patient ON image_sets (datastore_id, patient_id, updated_ms);
CREATE INDEX image_sets_search_accession ON image_sets (datastore_id, accession_number, updated_ms);
CREATE INDEX image_sets_search_study_uid ON image_sets (datastore_id, study_instance_uid, updated_ms);
CREATE INDEX image_sets_search_study_id ON image_sets (datastore_id, study_id, updated_ms);
CREATE INDEX image_sets_search_series_uid ON image_sets (datastore_id, series_instance_uid, updated_ms);
CREATE INDEX image_sets_search_primary ON image_sets (datastore_id, is_primary, updated_ms);
