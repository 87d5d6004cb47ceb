-- The monitor: the state of each check at each location, its state changes,
-- raw results for a window and rollups per minute, hour and day (level m, h,
-- d) whose counters are added to, so every level sums exactly what was run.
-- Latency buckets b0..b13 count runs of at most 1, 2, 5, 10, 20, 50, 100,
-- 200, 500, 1000, 2000, 5000, 10000 ms and above.
CREATE TABLE monitor_states (
    check_id   TEXT NOT NULL,
    location   TEXT NOT NULL,
    status     TEXT NOT NULL,
    health     TEXT NOT NULL,
    fails      INTEGER NOT NULL,
    oks        INTEGER NOT NULL,
    since      BIGINT NOT NULL,
    last_run   BIGINT,
    last       TEXT,
    PRIMARY KEY (check_id, location)
);

CREATE TABLE monitor_transitions (
    check_id  TEXT NOT NULL,
    location  TEXT NOT NULL,
    at        BIGINT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX monitor_transitions_check ON monitor_transitions (check_id, at);

CREATE TABLE monitor_results (
    check_id    TEXT NOT NULL,
    location    TEXT NOT NULL,
    at          BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    duration_us BIGINT NOT NULL,
    lag_us      BIGINT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    evidence    TEXT
);
CREATE INDEX monitor_results_check ON monitor_results (check_id, at);
CREATE INDEX monitor_results_at ON monitor_results (at);

CREATE TABLE monitor_rollups (
    check_id  TEXT NOT NULL,
    location  TEXT NOT NULL,
    level     TEXT NOT NULL,
    bucket    BIGINT NOT NULL,
    n         BIGINT NOT NULL,
    ok        BIGINT NOT NULL,
    warn      BIGINT NOT NULL,
    sum_us    BIGINT NOT NULL,
    min_us    BIGINT NOT NULL,
    max_us    BIGINT NOT NULL,
    b0 BIGINT NOT NULL, b1 BIGINT NOT NULL, b2 BIGINT NOT NULL, b3 BIGINT NOT NULL, b4 BIGINT NOT NULL,
    b5 BIGINT NOT NULL, b6 BIGINT NOT NULL, b7 BIGINT NOT NULL, b8 BIGINT NOT NULL, b9 BIGINT NOT NULL,
    b10 BIGINT NOT NULL, b11 BIGINT NOT NULL, b12 BIGINT NOT NULL, b13 BIGINT NOT NULL,
    PRIMARY KEY (check_id, location, level, bucket)
);
CREATE INDEX monitor_rollups_level_bucket ON monitor_rollups (level, bucket);
