-- Checks made through the API (/api/v1/checks): the check as its JSON body
-- (the keys of a check in a suite file), by id (the slug of its name).
-- Checks from suite files are not stored here.
CREATE TABLE monitor_api_checks (
    id         TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
