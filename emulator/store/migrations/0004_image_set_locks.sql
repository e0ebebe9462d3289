-- Asynchronous image set writes in flight (UpdateImageSetMetadata, CopyImageSet, DeleteImageSet).

-- Each row keeps one image set version LOCKED and says what that version becomes at `settle_at`.
-- The settler applies due rows and deletes them in the same transaction, so a write that was in
-- flight when the endpoint stopped (or was killed) completes when the endpoint starts again.
CREATE TABLE image_set_locks (
    image_set_id TEXT NOT NULL REFERENCES image_sets (image_set_id),
    version INTEGER NOT NULL,
    datastore_id TEXT NOT NULL,
    -- What holds the lock (UpdateImageSetMetadata, CopyImageSet, CopyImageSetSource, DeleteImageSet); quotas count it.
    operation TEXT NOT NULL,
    settle_at REAL NOT NULL,
    -- The version's state, workflow status and message once settled.
    state TEXT NOT NULL,
    workflow_status TEXT NOT NULL,
    message TEXT,
    -- The version's updatedAt once settled; NULL means `settle_at`.
    updated_at REAL,
    -- The version's gzip-compressed document once settled; NULL keeps the one the row has.
    metadata BLOB,
    -- 1 when the image set's search columns (and updated_at) follow this version once settled.
    reindex INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (image_set_id, version)
) WITHOUT ROWID;

CREATE INDEX image_set_locks_due ON image_set_locks (settle_at);
CREATE INDEX image_set_locks_by_datastore ON image_set_locks (datastore_id, operation);
