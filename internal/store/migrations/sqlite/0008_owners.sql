-- Several server processes may share one store. Each names itself (its
-- server id) and holds a lease it renews while it runs; every measurement
-- records the server that runs it. A server starting fails only its own
-- unfinished measurements, and any server fails those of a server whose
-- lease expired (killed, crashed or cut off), never a live one's.
CREATE TABLE servers (
    id          TEXT PRIMARY KEY,
    instance    TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    lease_until BIGINT NOT NULL
);
ALTER TABLE measurements ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE INDEX measurements_unfinished_owner ON measurements (owner) WHERE status IN ('queued', 'running');
