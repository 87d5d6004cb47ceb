package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Rollup levels.
const (
	LevelMinute = "m"
	LevelHour   = "h"
	LevelDay    = "d"
)

// LatencyBoundsMS are the upper bounds of the latency buckets of a rollup
// (the last bucket counts everything above the last bound).
var LatencyBoundsMS = [LatencyBuckets - 1]float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}

// LatencyBuckets is the number of latency buckets of a rollup.
const LatencyBuckets = 14

// CheckState is a monitored check's state at one location.
type CheckState struct {
	CheckID  string    `json:"check"`
	Location string    `json:"location"`
	Status   string    `json:"status"` // shown: up, down, degraded, pending, maintenance
	Health   string    `json:"health"` // the thresholds' verdict, whatever the maintenance
	Fails    int       `json:"fails"`  // failing runs in a row
	OKs      int       `json:"oks"`    // passing runs in a row
	Since    time.Time `json:"since"`
	LastRun  time.Time `json:"last_run,omitzero"`
	// Last is the last result as the monitor shows it.
	Last json.RawMessage `json:"last,omitempty"`
}

// CheckTransition is one change of a check's shown status.
type CheckTransition struct {
	CheckID  string    `json:"check"`
	Location string    `json:"location"`
	At       time.Time `json:"at"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Reason   string    `json:"reason,omitempty"`
}

// CheckResult is one run of a check.
type CheckResult struct {
	CheckID  string        `json:"check"`
	Location string        `json:"location"`
	At       time.Time     `json:"at"`
	Outcome  string        `json:"outcome"` // ok, warn, fail
	Duration time.Duration `json:"-"`
	Lag      time.Duration `json:"-"`
	Error    string        `json:"error,omitempty"`
	// Evidence is what failed (conditions, values read), for warn and fail.
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

// Rollup sums the runs of a check at a location in one minute, hour or day.
type Rollup struct {
	CheckID  string
	Location string
	Level    string
	Bucket   time.Time
	N, OK    int64 // runs, and runs that passed (warned ones included)
	Warn     int64
	Sum      time.Duration
	Min, Max time.Duration
	Buckets  [LatencyBuckets]int64
}

// Add adds o's runs to r (the rollup's keys are left as they are).
func (r *Rollup) Add(o *Rollup) {
	if r.N == 0 || o.N > 0 && o.Min < r.Min {
		r.Min = o.Min
	}
	r.Max = max(r.Max, o.Max)
	r.N, r.OK, r.Warn, r.Sum = r.N+o.N, r.OK+o.OK, r.Warn+o.Warn, r.Sum+o.Sum
	for i := range r.Buckets {
		r.Buckets[i] += o.Buckets[i]
	}
}

// Observe adds one run to r.
func (r *Rollup) Observe(outcome string, d time.Duration) {
	one := Rollup{N: 1, Sum: d, Min: d, Max: d}
	if outcome != "fail" {
		one.OK = 1
	}
	if outcome == "warn" {
		one.Warn = 1
	}
	one.Buckets[LatencyBucket(d)] = 1
	r.Add(&one)
}

// LatencyBucket is the index of the bucket counting d.
func LatencyBucket(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	for i, b := range LatencyBoundsMS {
		if ms <= b {
			return i
		}
	}
	return LatencyBuckets - 1
}

// MonitorBatch is what the monitor writes at once, in one transaction.
type MonitorBatch struct {
	States      []CheckState
	Transitions []CheckTransition
	Results     []CheckResult
	// Rollups are added to the stored rows with the same keys.
	Rollups []Rollup
	// Notifications go to the alert outbox with the state changes that
	// caused them (alert.go).
	Notifications []Notification
}

// SaveMonitor writes a batch: states replace the stored ones, transitions
// and results are appended, rollups are added to.
func (s *Store) SaveMonitor(ctx context.Context, b *MonitorBatch) error {
	defer s.observe("save_monitor", time.Now())
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("saving monitor data: %w", err)
	}
	defer tx.Rollback()
	for _, step := range []func(context.Context, *sql.Tx, *MonitorBatch) error{s.saveStates, s.saveTransitions, s.saveResults, s.saveRollups, s.saveNotifications} {
		if err := step(ctx, tx, b); err != nil {
			return fmt.Errorf("saving monitor data: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("saving monitor data: %w", err)
	}
	return nil
}

func (s *Store) saveStates(ctx context.Context, tx *sql.Tx, b *MonitorBatch) error {
	rows := make([][]any, len(b.States))
	for i, c := range b.States {
		rows[i] = []any{c.CheckID, c.Location, c.Status, c.Health, c.Fails, c.OKs, c.Since.UnixMicro(), micros(c.LastRun), nullText(c.Last)}
	}
	return s.insertRowsThen(ctx, tx, "monitor_states (check_id, location, status, health, fails, oks, since, last_run, last)", rows,
		` ON CONFLICT (check_id, location) DO UPDATE SET status = excluded.status, health = excluded.health,
		fails = excluded.fails, oks = excluded.oks, since = excluded.since, last_run = excluded.last_run, last = excluded.last`)
}

func (s *Store) saveTransitions(ctx context.Context, tx *sql.Tx, b *MonitorBatch) error {
	rows := make([][]any, len(b.Transitions))
	for i, t := range b.Transitions {
		rows[i] = []any{t.CheckID, t.Location, t.At.UnixMicro(), t.From, t.To, t.Reason}
	}
	return s.insertRows(ctx, tx, "monitor_transitions (check_id, location, at, from_status, to_status, reason)", rows)
}

func (s *Store) saveResults(ctx context.Context, tx *sql.Tx, b *MonitorBatch) error {
	rows := make([][]any, len(b.Results))
	for i, r := range b.Results {
		rows[i] = []any{r.CheckID, r.Location, r.At.UnixMicro(), r.Outcome, r.Duration.Microseconds(), r.Lag.Microseconds(), r.Error, nullText(r.Evidence)}
	}
	return s.insertRows(ctx, tx, "monitor_results (check_id, location, at, outcome, duration_us, lag_us, error, evidence)", rows)
}

// insertRows inserts rows into table (with its column list) a hundred
// rows per statement.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, table string, rows [][]any) error {
	return s.insertRowsThen(ctx, tx, table, rows, "")
}

// insertRowsThen is insertRows with a clause after the VALUES (ON
// CONFLICT ...): the rows of one call must have distinct keys. Statements
// of a full hundred rows are prepared once per call.
func (s *Store) insertRowsThen(ctx context.Context, tx *sql.Tx, table string, rows [][]any, then string) error {
	if len(rows) == 0 {
		return nil
	}
	cols := len(rows[0])
	per := max(1, min(100, 900/cols)) // under SQLite's old limit of 999 variables
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	stmt := func(n int) string {
		return s.q("INSERT INTO " + table + " VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ") + then)
	}
	args := make([]any, 0, per*cols)
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for len(rows) > 0 {
		n := min(per, len(rows))
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		var err error
		if n == per && len(rows) > per {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, stmt(per)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, stmt(n), args...)
		}
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

const rollupColumns = "check_id, location, level, bucket, n, ok, warn, sum_us, min_us, max_us, " +
	"b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13"

func (s *Store) saveRollups(ctx context.Context, tx *sql.Tx, b *MonitorBatch) error {
	if len(b.Rollups) == 0 {
		return nil
	}
	least, greatest := "LEAST", "GREATEST"
	if s.dialect == DialectSQLite {
		least, greatest = "min", "max"
	}
	set := []string{"n", "ok", "warn", "sum_us"}
	for i := range LatencyBuckets {
		set = append(set, fmt.Sprintf("b%d", i))
	}
	var upd []string
	for _, c := range set {
		upd = append(upd, fmt.Sprintf("%s = monitor_rollups.%s + excluded.%s", c, c, c))
	}
	upd = append(upd, fmt.Sprintf("min_us = %s(monitor_rollups.min_us, excluded.min_us)", least),
		fmt.Sprintf("max_us = %s(monitor_rollups.max_us, excluded.max_us)", greatest))
	rows := make([][]any, len(b.Rollups))
	for i, r := range b.Rollups {
		row := make([]any, 0, 10+LatencyBuckets)
		row = append(row, r.CheckID, r.Location, r.Level, r.Bucket.UnixMicro(), r.N, r.OK, r.Warn, r.Sum.Microseconds(), r.Min.Microseconds(), r.Max.Microseconds())
		for _, c := range r.Buckets {
			row = append(row, c)
		}
		rows[i] = row
	}
	return s.insertRowsThen(ctx, tx, "monitor_rollups ("+rollupColumns+")", rows,
		" ON CONFLICT (check_id, location, level, bucket) DO UPDATE SET "+strings.Join(upd, ", "))
}

func nullText(b json.RawMessage) sql.NullString {
	return sql.NullString{String: string(b), Valid: len(b) > 0}
}

// MonitorStates returns every stored check state.
func (s *Store) MonitorStates(ctx context.Context) ([]CheckState, error) {
	defer s.observe("monitor_states", time.Now())
	rows, err := s.r.QueryContext(ctx, `SELECT check_id, location, status, health, fails, oks, since, last_run, last FROM monitor_states ORDER BY check_id, location`)
	if err != nil {
		return nil, fmt.Errorf("reading check states: %w", err)
	}
	defer rows.Close()
	var out []CheckState
	for rows.Next() {
		var (
			c       CheckState
			since   int64
			lastRun sql.NullInt64
			last    sql.NullString
		)
		if err := rows.Scan(&c.CheckID, &c.Location, &c.Status, &c.Health, &c.Fails, &c.OKs, &since, &lastRun, &last); err != nil {
			return nil, fmt.Errorf("reading check states: %w", err)
		}
		c.Since, c.LastRun = time.UnixMicro(since).UTC(), fromMicros(lastRun)
		if last.Valid {
			c.Last = json.RawMessage(last.String)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MonitorTransitions returns a check's state changes, newest first, at most limit.
func (s *Store) MonitorTransitions(ctx context.Context, checkID string, limit int) ([]CheckTransition, error) {
	defer s.observe("monitor_transitions", time.Now())
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT check_id, location, at, from_status, to_status, reason FROM monitor_transitions
		WHERE check_id = ? ORDER BY at DESC LIMIT ?`), checkID, limit)
	if err != nil {
		return nil, fmt.Errorf("reading state changes of %s: %w", checkID, err)
	}
	defer rows.Close()
	var out []CheckTransition
	for rows.Next() {
		var (
			t  CheckTransition
			at int64
		)
		if err := rows.Scan(&t.CheckID, &t.Location, &at, &t.From, &t.To, &t.Reason); err != nil {
			return nil, fmt.Errorf("reading state changes of %s: %w", checkID, err)
		}
		t.At = time.UnixMicro(at).UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// MonitorResults returns a check's runs before before (all when zero),
// newest first, at most limit; onlyFailed keeps warn and fail runs.
func (s *Store) MonitorResults(ctx context.Context, checkID string, before time.Time, limit int, onlyFailed bool) ([]CheckResult, error) {
	defer s.observe("monitor_results", time.Now())
	b := int64(1<<62 - 1)
	if !before.IsZero() {
		b = before.UnixMicro()
	}
	q := `SELECT check_id, location, at, outcome, duration_us, lag_us, error, evidence FROM monitor_results WHERE check_id = ? AND at < ?`
	if onlyFailed {
		q += ` AND outcome <> 'ok'`
	}
	rows, err := s.r.QueryContext(ctx, s.q(q+` ORDER BY at DESC LIMIT ?`), checkID, b, limit)
	if err != nil {
		return nil, fmt.Errorf("reading results of %s: %w", checkID, err)
	}
	defer rows.Close()
	var out []CheckResult
	for rows.Next() {
		var (
			r           CheckResult
			at, du, lag int64
			ev          sql.NullString
		)
		if err := rows.Scan(&r.CheckID, &r.Location, &at, &r.Outcome, &du, &lag, &r.Error, &ev); err != nil {
			return nil, fmt.Errorf("reading results of %s: %w", checkID, err)
		}
		r.At, r.Duration, r.Lag = time.UnixMicro(at).UTC(), time.Duration(du)*time.Microsecond, time.Duration(lag)*time.Microsecond
		if ev.Valid {
			r.Evidence = json.RawMessage(ev.String)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MonitorRollups returns a check's rollups of a level with buckets in
// [from, to), oldest first, every location.
func (s *Store) MonitorRollups(ctx context.Context, checkID, level string, from, to time.Time) ([]Rollup, error) {
	defer s.observe("monitor_rollups", time.Now())
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+rollupColumns+` FROM monitor_rollups
		WHERE check_id = ? AND level = ? AND bucket >= ? AND bucket < ? ORDER BY bucket, location`),
		checkID, level, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("reading rollups of %s: %w", checkID, err)
	}
	out, err := scanRollups(rows)
	if err != nil {
		return nil, fmt.Errorf("reading rollups of %s: %w", checkID, err)
	}
	return out, nil
}

// RollupCount is the runs of one rollup without their latencies.
type RollupCount struct {
	CheckID string
	Bucket  time.Time
	N, OK   int64 // runs, and runs that passed (warned ones included)
	Sum     time.Duration
}

// EachRollupCount calls fn with the runs of every check's rollup of a
// level at a location with buckets in [from, to), row by row, in no order:
// the monitor's start-up read of its recent minutes and days (their
// latency histograms are not read).
func (s *Store) EachRollupCount(ctx context.Context, location, level string, from, to time.Time, fn func(RollupCount)) error {
	defer s.observe("monitor_rollup_counts", time.Now())
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT check_id, bucket, n, ok, sum_us FROM monitor_rollups
		WHERE level = ? AND bucket >= ? AND bucket < ? AND location = ?`),
		level, from.UnixMicro(), to.UnixMicro(), location)
	if err != nil {
		return fmt.Errorf("reading rollup counts at %s: %w", location, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c           RollupCount
			bucket, sum int64
		)
		if err := rows.Scan(&c.CheckID, &bucket, &c.N, &c.OK, &sum); err != nil {
			return fmt.Errorf("reading rollup counts at %s: %w", location, err)
		}
		c.Bucket, c.Sum = time.UnixMicro(bucket).UTC(), time.Duration(sum)*time.Microsecond
		fn(c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading rollup counts at %s: %w", location, err)
	}
	return nil
}

// scanRollups reads rows of rollupColumns and closes them.
func scanRollups(rows *sql.Rows) ([]Rollup, error) {
	defer rows.Close()
	var out []Rollup
	for rows.Next() {
		var (
			r                       Rollup
			bucket, sum, minD, maxD int64
		)
		dest := []any{&r.CheckID, &r.Location, &r.Level, &bucket, &r.N, &r.OK, &r.Warn, &sum, &minD, &maxD}
		for i := range r.Buckets {
			dest = append(dest, &r.Buckets[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.Bucket = time.UnixMicro(bucket).UTC()
		r.Sum, r.Min, r.Max = time.Duration(sum)*time.Microsecond, time.Duration(minD)*time.Microsecond, time.Duration(maxD)*time.Microsecond
		out = append(out, r)
	}
	return out, rows.Err()
}

// MonitorRetention is how long each kind of monitor data is kept; zero
// keeps it.
type MonitorRetention struct {
	Results, Minutes, Hours, Days, Transitions time.Duration
}

// PruneMonitor deletes monitor data older than its retention at now and
// returns the number of rows deleted.
func (s *Store) PruneMonitor(ctx context.Context, now time.Time, r MonitorRetention) (int64, error) {
	defer s.observe("prune_monitor", time.Now())
	var total int64
	del := func(keep time.Duration, q string, args ...any) error {
		if keep <= 0 {
			return nil
		}
		res, err := s.w.ExecContext(ctx, s.q(q), append(args, now.Add(-keep).UnixMicro())...)
		if err != nil {
			return fmt.Errorf("pruning monitor data: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		return nil
	}
	if err := del(r.Results, `DELETE FROM monitor_results WHERE at < ?`); err != nil {
		return total, err
	}
	if err := del(r.Transitions, `DELETE FROM monitor_transitions WHERE at < ?`); err != nil {
		return total, err
	}
	for level, keep := range map[string]time.Duration{LevelMinute: r.Minutes, LevelHour: r.Hours, LevelDay: r.Days} {
		if err := del(keep, `DELETE FROM monitor_rollups WHERE level = ? AND bucket < ?`, level); err != nil {
			return total, err
		}
	}
	return total, nil
}

// DeleteMonitorCheck deletes everything stored about a check, all or
// nothing.
func (s *Store) DeleteMonitorCheck(ctx context.Context, checkID string) error {
	defer s.observe("delete_monitor_check", time.Now())
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("deleting monitor data of %s: %w", checkID, err)
	}
	defer tx.Rollback()
	for _, t := range []string{"monitor_states", "monitor_transitions", "monitor_results", "monitor_rollups"} {
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM "+t+" WHERE check_id = ?"), checkID); err != nil {
			return fmt.Errorf("deleting monitor data of %s: %w", checkID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("deleting monitor data of %s: %w", checkID, err)
	}
	return nil
}
