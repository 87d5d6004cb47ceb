-- Agents: remote locations that connect out to the server over NATS. The
-- token is never stored, only its SHA-256 hash. Location fields are what
-- the agent announced last (or what `agents add` set); last_seen_at is
-- updated when the agent comes online and goes offline, not per heartbeat.
CREATE TABLE agents (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    city         TEXT NOT NULL DEFAULT '',
    country      TEXT NOT NULL DEFAULT '',
    latitude     DOUBLE PRECISION,
    longitude    DOUBLE PRECISION,
    asn          BIGINT NOT NULL DEFAULT 0,
    version      TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT,
    revoked_at   BIGINT
);
