-- Storage tiers (docs/storage-tiers.md): the last touch of each image set, and the offset of the
-- endpoint clock that tiering reads. Image sets of an older state directory count as touched when they
-- were last updated, the latest moment an import, copy or update (all touches) can have reached them.
CREATE TABLE image_set_access (
    image_set_id TEXT NOT NULL PRIMARY KEY,
    last_accessed_at REAL NOT NULL
) WITHOUT ROWID;

INSERT INTO image_set_access (image_set_id, last_accessed_at) SELECT image_set_id, updated_at FROM image_sets;

-- One row: seconds added to the real time wherever tiering reads or records a time. Written at every
-- start (from `ahi local --clock-offset`, 0 without it) and by the local admin call.
CREATE TABLE endpoint_clock (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    offset_seconds REAL NOT NULL
);

INSERT INTO endpoint_clock (id, offset_seconds) VALUES (1, 0);
