-- Times are Unix microseconds (UTC) in BIGINT columns in both dialects, NULL
-- when unset, so backups move between SQLite and PostgreSQL unchanged.
-- JSON documents are stored as text exactly as given.
CREATE TABLE measurements (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    target      TEXT NOT NULL,
    options     TEXT,
    locations   TEXT,
    status      TEXT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    result      TEXT,
    client_id   TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
);
CREATE INDEX measurements_created_at ON measurements (created_at, id);
CREATE INDEX measurements_type_created_at ON measurements (type, created_at);
CREATE INDEX measurements_status_created_at ON measurements (status, created_at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    admin        INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
