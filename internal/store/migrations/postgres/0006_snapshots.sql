-- Snapshots: a domain's DNS records at one moment (internal/snapshot's JSON
-- document in data), taken by `dnsscience snapshot --store`, the API or the
-- server's schedule. The columns beside data are what lists show and
-- filter on. (0005 is another branch's migration; versions may arrive out
-- of order, see migrate.go.)
CREATE TABLE snapshots (
    id        TEXT PRIMARY KEY,
    domain    TEXT NOT NULL,
    taken_at  BIGINT NOT NULL,
    method    TEXT NOT NULL,
    serial    BIGINT NOT NULL,
    rrsets    INTEGER NOT NULL,
    records   INTEGER NOT NULL,
    source    TEXT NOT NULL DEFAULT '',
    client_id TEXT NOT NULL DEFAULT '',
    data      TEXT NOT NULL
);
CREATE INDEX snapshots_domain_taken ON snapshots (domain, taken_at);
