-- Data stores, tags, idempotency tokens and store secrets.

-- Timed transitions are derived, not scheduled: a row is `status` until `transition_at`, then
-- `next_status` (updatedAt = transition_at). So a restart resumes every transition for free.
CREATE TABLE datastores (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    datastore_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    next_status TEXT,
    transition_at REAL,
    kms_key_arn TEXT,
    lambda_authorizer_arn TEXT,
    lossless_storage_format TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

CREATE INDEX datastores_by_scope ON datastores (account_id, region, seq);

-- Tags of any resource, keyed by its ARN (data stores now, image sets later).
CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (resource_arn, tag_key)
) WITHOUT ROWID;

-- clientToken idempotency for any creating operation (CreateDatastore, StartDICOMImportJob, ...).
CREATE TABLE client_tokens (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    operation TEXT NOT NULL,
    token TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (account_id, region, operation, token)
) WITHOUT ROWID;

CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
