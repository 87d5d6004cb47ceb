-- Alerts: the outbox of notifications, written in the same transaction as
-- the state change that causes them, and delivered by the alert worker.
-- idem_key is stable per check, location, transition and channel (the
-- receivers' idempotency key); seq orders the deliveries of a check.
-- status: pending (to deliver; claimed_until leases it to one worker),
-- delivered, dead (gave up: the dead letters), silenced.
CREATE TABLE alert_outbox (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    idem_key      TEXT NOT NULL UNIQUE,
    check_id      TEXT NOT NULL,
    location      TEXT NOT NULL,
    channel       TEXT NOT NULL,
    event         TEXT NOT NULL,
    transition_at BIGINT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    claimed_by    TEXT NOT NULL DEFAULT '',
    last_error    TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    delivered_at  BIGINT
);
CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt);
CREATE INDEX alert_outbox_check ON alert_outbox (check_id, channel, seq);

-- Silences: no notification of the check (empty: every check) to the
-- channel (empty: every channel) is sent until expires_at.
CREATE TABLE alert_silences (
    id         TEXT PRIMARY KEY,
    check_id   TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
