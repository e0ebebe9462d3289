-- The image sets an import job wrote, with the version it wrote and whether that image set was primary
-- then (docs/primary-image-sets.md). A job creates image sets (version 1) and may also add instances
-- to an existing primary image set as a new version, so `image_sets.import_job_id` (the creator) no
-- longer says everything a job's manifest lists.
CREATE TABLE import_job_image_sets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    image_set_id TEXT NOT NULL REFERENCES image_sets (image_set_id),
    version INTEGER NOT NULL,
    is_primary INTEGER NOT NULL,
    UNIQUE (job_id, image_set_id)
);

-- State written before this migration: every job created its image sets at version 1.
INSERT INTO import_job_image_sets (job_id, image_set_id, version, is_primary)
SELECT import_job_id, image_set_id, 1, is_primary FROM image_sets WHERE import_job_id IS NOT NULL ORDER BY seq;
