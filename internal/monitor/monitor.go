// Package monitor watches checks continuously: it runs each check of the
// suites (internal/check) at its interval on a scheduler with an injected
// clock, keeps each check's state (pending, up, degraded, down,
// maintenance) with failure and success thresholds, persists state changes,
// raw results and per-minute, hour and day rollups in the store, and
// exposes per-check Prometheus metrics. Checks come from suite files or
// directories, reloaded when they change; a bad edit keeps the previous
// checks of that file.
package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/store"
)

// Store is what the monitor keeps its data in (*store.Store).
type Store interface {
	SaveMonitor(ctx context.Context, b *store.MonitorBatch) error
	MonitorStates(ctx context.Context) ([]store.CheckState, error)
	MonitorTransitions(ctx context.Context, checkID string, limit int) ([]store.CheckTransition, error)
	MonitorResults(ctx context.Context, checkID string, before time.Time, limit int, onlyFailed bool) ([]store.CheckResult, error)
	MonitorRollups(ctx context.Context, checkID, level string, from, to time.Time) ([]store.Rollup, error)
	EachRollupCount(ctx context.Context, location, level string, from, to time.Time, fn func(store.RollupCount)) error
	PruneMonitor(ctx context.Context, now time.Time, r store.MonitorRetention) (int64, error)
}

// ErrNoCheck: no check has that id.
var ErrNoCheck = errors.New("no such check")

// Config is the monitor's configuration; zero values are documented defaults.
type Config struct {
	// Runner runs one check (its Env is the target policy, resolvers ...).
	// nil means a check.Runner with measure.Env's defaults.
	Runner *check.Runner
	// Store keeps state and history; nil keeps state in memory only.
	Store Store
	// Clock is the time; nil means the wall clock.
	Clock Clock
	// Location names where the checks run; empty means "local".
	Location string
	// Workers bound the runs at once; 0 means 256.
	Workers int
	// FlushEvery is how often results are written; 0 means 2 s.
	FlushEvery time.Duration
	// Retention per kind of data; zero fields mean DefaultRetention's.
	Retention store.MonitorRetention
	// Log receives reload errors and state changes; nil discards.
	Log *slog.Logger
	// OnTransition, when set, is called for every state change (from the
	// workers; keep it short).
	OnTransition func(Event)
	// OnResult, when set, is called after every run is recorded.
	OnResult func(id string, r Result)
	// Notify, when set, is asked after every run which notifications it
	// causes (the alert router); they are written with the run's state
	// change, in the same transaction (notify.go).
	Notify func(Run) []store.Notification
}

// DefaultRetention keeps raw results 7 days, minute rollups 2 days, hour
// rollups 35 days, day rollups and state changes 400 days.
var DefaultRetention = store.MonitorRetention{Results: 7 * 24 * time.Hour, Minutes: 48 * time.Hour,
	Hours: 35 * 24 * time.Hour, Days: 400 * 24 * time.Hour, Transitions: 400 * 24 * time.Hour}

// Event is a state change of a check.
type Event struct {
	Check    string    `json:"check"`
	Name     string    `json:"name"`
	Location string    `json:"location"`
	At       time.Time `json:"at"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Reason   string    `json:"reason"`
	Error    string    `json:"error,omitempty"`
}

// Result is a check's last run as the monitor shows it.
type Result struct {
	At         time.Time       `json:"at"`
	Outcome    string          `json:"outcome"`
	DurationMS float64         `json:"duration_ms"`
	LagMS      float64         `json:"lag_ms"`
	Error      string          `json:"error,omitempty"`
	Failed     []check.Failure `json:"failed,omitempty"`
	Warned     []check.Failure `json:"warned,omitempty"`
	Phase      string          `json:"phase,omitempty"`
}

// Monitor watches checks. Build it with New, give it checks (SetChecks or a
// Loader) and Start it.
type Monitor struct {
	cfg    Config
	sched  *Scheduler
	clock  Clock
	runner *check.Runner

	mu       sync.RWMutex
	checks   map[string]*watched
	restored map[string]store.CheckState
	sources  map[string]*source // by file (or "api:ID")
	loader   *Loader
	apiErrs  map[string]error // stored API checks that failed to load
	amu      sync.Mutex       // one change of API checks at a time
	// restoredTrends are the stored trends of checks not yet watched.
	restoredTrends map[string]*trends

	fmu     sync.Mutex // held while a batch is written (a deletion waits for it)
	pmu     sync.Mutex
	pending store.MonitorBatch
	dirty   map[string]*watched
	acc     map[rollupKey]*store.Rollup

	stats stats
	hub   transitionHub
}

type rollupKey struct {
	id, level string
	bucket    time.Time
}

// watched is one check being watched.
type watched struct {
	c      *check.Check
	id     string
	suite  string
	body   json.RawMessage // an API check's definition; nil for a file's
	mu     sync.Mutex
	state  State
	last   *Result
	sample sample
	trends trends
}

// New builds a monitor.
func New(cfg Config) *Monitor {
	if cfg.Clock == nil {
		cfg.Clock = Real()
	}
	if cfg.Location == "" {
		cfg.Location = "local"
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 2 * time.Second
	}
	if cfg.Runner == nil {
		cfg.Runner = &check.Runner{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r := &cfg.Retention
	d := DefaultRetention
	for _, p := range []struct {
		dst *time.Duration
		def time.Duration
	}{{&r.Results, d.Results}, {&r.Minutes, d.Minutes}, {&r.Hours, d.Hours}, {&r.Days, d.Days}, {&r.Transitions, d.Transitions}} {
		if *p.dst == 0 {
			*p.dst = p.def
		}
	}
	m := &Monitor{cfg: cfg, clock: cfg.Clock, runner: cfg.Runner, checks: map[string]*watched{}, sources: map[string]*source{},
		dirty: map[string]*watched{}, acc: map[rollupKey]*store.Rollup{}, stats: newStats()}
	m.sched = &Scheduler{Clock: cfg.Clock, Workers: cfg.Workers, Run: m.run, Done: m.done, Skipped: func(string, int) { m.stats.skipped.Inc() }}
	return m
}

// Restore reads the stored states and the runs of the last hour's minutes
// and the last 90 days (the list's trends), so checks keep them across a
// restart. Call it before the first SetChecks.
func (m *Monitor) Restore(ctx context.Context) error {
	if m.cfg.Store == nil {
		return nil
	}
	states, err := m.cfg.Store.MonitorStates(ctx)
	if err != nil {
		return fmt.Errorf("restoring check states: %w", err)
	}
	tr, err := m.restoreTrends(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.restoredTrends = tr
	m.restored = map[string]store.CheckState{}
	for _, s := range states {
		if s.Location == m.cfg.Location {
			m.restored[s.CheckID] = s
		}
	}
	return nil
}

// apply makes the checks of every source the watched set and schedules them.
func (m *Monitor) apply() {
	m.mu.Lock()
	next := map[string]*watched{}
	var slots []Slot
	for _, src := range m.sources {
		for _, c := range src.checks {
			id := c.ID()
			w, ok := m.checks[id]
			if !ok {
				w = &watched{id: id, state: State{Status: StatusPending, Health: StatusPending, Since: m.clock.Now()}}
				if st, ok := m.restored[id]; ok {
					w.state = State{Status: st.Status, Health: st.Health, Fails: st.Fails, OKs: st.OKs, Since: st.Since}
					var last Result
					if json.Unmarshal(st.Last, &last) == nil && !last.At.IsZero() {
						w.last = &last
					}
				}
				if tr := m.restoredTrends[id]; tr != nil {
					// Taken once: a check dropped and added again later
					// starts empty rather than with runs missing.
					w.trends = *tr
					delete(m.restoredTrends, id)
				}
			}
			w.mu.Lock()
			w.c, w.suite, w.body = c, src.suite, src.body
			w.mu.Unlock()
			next[id] = w
			slots = append(slots, Slot{ID: id, Interval: c.Watch.Interval})
		}
	}
	m.checks = next
	m.mu.Unlock()
	m.stats.checks.Set(float64(len(next)))
	m.sched.Set(slots)
}

// Start runs the checks and writes their results until ctx ends, then
// writes what is left.
func (m *Monitor) Start(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.sched.Start(ctx)
	}()
	m.flushLoop(ctx)
	wg.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := m.Flush(fctx); err != nil {
		m.cfg.Log.Warn("writing the last monitor results", "err", err)
	}
}

func (m *Monitor) flushLoop(ctx context.Context) {
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.clock.After(m.cfg.FlushEvery):
		}
		if err := m.Flush(ctx); err != nil && ctx.Err() == nil {
			m.stats.flushErrors.Inc()
			m.cfg.Log.Warn("writing monitor results", "err", err)
		}
		if err := m.SyncAPIChecks(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Log.Warn("reading API checks", "err", err)
		}
		if now := m.clock.Now(); m.cfg.Store != nil && now.Sub(lastPrune) >= time.Hour {
			lastPrune = now
			if _, err := m.cfg.Store.PruneMonitor(ctx, now, m.cfg.Retention); err != nil && ctx.Err() == nil {
				m.cfg.Log.Warn("pruning monitor data", "err", err)
			}
		}
	}
}

// RunNow runs a check now, outside its schedule; false when a run of it is going.
func (m *Monitor) RunNow(id string) (bool, error) {
	if m.lookup(id) == nil {
		return false, fmt.Errorf("%w: %q", ErrNoCheck, id)
	}
	return m.sched.RunNow(id), nil
}

func (m *Monitor) lookup(id string) *watched {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.checks[id]
}

// run is one scheduled run: the check through the registry, then its record.
func (m *Monitor) run(ctx context.Context, j Job) {
	w := m.lookup(j.ID)
	if w == nil {
		return
	}
	w.mu.Lock()
	c := w.c
	w.mu.Unlock()
	res := m.runner.RunOne(ctx, c)
	if ctx.Err() != nil {
		return // shutting down: not a failure of the target
	}
	m.stats.lag.Observe(j.Lag().Seconds())
	m.record(w, c, j, res)
}

func outcomeOf(r check.Result) string {
	switch {
	case !r.Pass:
		return OutcomeFail
	case len(r.Warned) > 0:
		return OutcomeWarn
	}
	return OutcomeOK
}

// record updates a check's state, metrics and pending history with a run.
func (m *Monitor) record(w *watched, c *check.Check, j Job, res check.Result) {
	outcome := outcomeOf(res)
	// The store keeps microseconds: rollups sum what the raw rows hold.
	res.Duration = res.Duration.Truncate(time.Microsecond)
	last := &Result{At: j.Started, Outcome: outcome, DurationMS: ms(res.Duration), LagMS: ms(j.Lag()), Error: res.Error,
		Failed: res.Failed, Warned: res.Warned}
	if res.Values != nil {
		last.Phase, _ = res.Values.M["phase"].(string)
	}
	w.mu.Lock()
	th := Thresholds{Failure: c.Watch.FailureThreshold, Success: c.Watch.SuccessThreshold}
	next, tr := w.state.Next(outcome, j.Started, th, c.Watch.InMaintenance(j.Started))
	w.state, w.last = next, last
	w.sample = sampleOf(res, j.Started)
	w.trends.observe(j.Started, outcome, res.Duration)
	w.mu.Unlock()
	m.stats.runs.WithLabelValues(outcome).Inc()

	row := store.CheckResult{CheckID: w.id, Location: m.cfg.Location, At: j.Started, Outcome: outcome, Duration: res.Duration, Lag: j.Lag(), Error: res.Error}
	if outcome != OutcomeOK {
		row.Evidence, _ = json.Marshal(struct {
			Failed []check.Failure `json:"failed,omitempty"`
			Warned []check.Failure `json:"warned,omitempty"`
			Phase  string          `json:"phase,omitempty"`
		}{res.Failed, res.Warned, last.Phase})
	}
	var ev *Event
	if tr != nil {
		ev = &Event{Check: w.id, Name: c.Name, Location: m.cfg.Location, At: j.Started, From: tr.From, To: tr.To, Reason: tr.Reason, Error: failureSummary(res)}
	}
	notes := m.notify(c, w.id, next, ev, last)
	m.pmu.Lock()
	m.pending.Notifications = append(m.pending.Notifications, notes...)
	if m.lookup(w.id) != w {
		// Deleted while it ran: its history is gone, none is written again.
		m.pmu.Unlock()
		return
	}
	m.pending.Results = append(m.pending.Results, row)
	m.dirty[w.id] = w
	for _, level := range []string{store.LevelMinute, store.LevelHour, store.LevelDay} {
		k := rollupKey{w.id, level, bucketOf(level, j.Started)}
		r := m.acc[k]
		if r == nil {
			r = &store.Rollup{CheckID: w.id, Location: m.cfg.Location, Level: level, Bucket: k.bucket}
			m.acc[k] = r
		}
		r.Observe(outcome, res.Duration)
	}
	if tr != nil {
		m.pending.Transitions = append(m.pending.Transitions, store.CheckTransition{CheckID: w.id, Location: m.cfg.Location,
			At: j.Started, From: tr.From, To: tr.To, Reason: tr.Reason})
	}
	m.pmu.Unlock()
	if ev != nil {
		m.cfg.Log.Info("check state changed", "check", ev.Check, "from", ev.From, "to", ev.To, "reason", ev.Reason, "error", ev.Error)
		m.hub.publish(*ev)
		if m.cfg.OnTransition != nil {
			m.cfg.OnTransition(*ev)
		}
	}
}

// done reports a finished run to OnResult.
func (m *Monitor) done(j Job) {
	w := m.lookup(j.ID)
	if w == nil || m.cfg.OnResult == nil {
		return
	}
	w.mu.Lock()
	last := w.last
	w.mu.Unlock()
	if last != nil {
		m.cfg.OnResult(j.ID, *last)
	}
}

func failureSummary(r check.Result) string {
	if r.Error != "" {
		return r.Error
	}
	if len(r.Failed) > 0 {
		return r.Failed[0].Condition + " (got " + r.Failed[0].Actual + ")"
	}
	if len(r.Warned) > 0 {
		return r.Warned[0].Condition + " (got " + r.Warned[0].Actual + ")"
	}
	return ""
}

func bucketOf(level string, t time.Time) time.Time {
	t = t.UTC()
	switch level {
	case store.LevelMinute:
		return t.Truncate(time.Minute)
	case store.LevelHour:
		return t.Truncate(time.Hour)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Flush writes the pending results, state changes, states and rollups.
func (m *Monitor) Flush(ctx context.Context) error {
	m.fmu.Lock()
	defer m.fmu.Unlock()
	m.pmu.Lock()
	b := m.pending
	dirty, acc := m.dirty, m.acc
	m.pending, m.dirty, m.acc = store.MonitorBatch{}, map[string]*watched{}, map[rollupKey]*store.Rollup{}
	m.pmu.Unlock()
	if m.cfg.Store == nil {
		return nil
	}
	for _, w := range dirty {
		b.States = append(b.States, w.stored(m.cfg.Location))
	}
	for _, r := range acc {
		b.Rollups = append(b.Rollups, *r)
	}
	// A stable order keeps concurrent writers (PostgreSQL) from deadlocking.
	sort.Slice(b.Rollups, func(i, j int) bool {
		x, y := b.Rollups[i], b.Rollups[j]
		if x.CheckID != y.CheckID {
			return x.CheckID < y.CheckID
		}
		if x.Level != y.Level {
			return x.Level < y.Level
		}
		return x.Bucket.Before(y.Bucket)
	})
	if len(b.States)+len(b.Results)+len(b.Transitions)+len(b.Rollups) == 0 {
		return nil
	}
	return m.cfg.Store.SaveMonitor(ctx, &b)
}

// forget drops what is pending for a check no longer watched: none of it
// is written after its history is deleted (notifications still go out).
func (m *Monitor) forget(id string) {
	m.pmu.Lock()
	defer m.pmu.Unlock()
	delete(m.dirty, id)
	for k := range m.acc {
		if k.id == id {
			delete(m.acc, k)
		}
	}
	b := &m.pending
	b.Results = slices.DeleteFunc(b.Results, func(r store.CheckResult) bool { return r.CheckID == id })
	b.Transitions = slices.DeleteFunc(b.Transitions, func(t store.CheckTransition) bool { return t.CheckID == id })
}

func (w *watched) stored(location string) store.CheckState {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := store.CheckState{CheckID: w.id, Location: location, Status: w.state.Status, Health: w.state.Health,
		Fails: w.state.Fails, OKs: w.state.OKs, Since: w.state.Since}
	if w.last != nil {
		st.LastRun = w.last.At
		st.Last, _ = json.Marshal(w.last)
	}
	return st
}

// ConfigErrors lists the suite files that failed to load at the last
// reload (their previous checks are still watched) and the stored API
// checks that failed to load (named api:ID).
func (m *Monitor) ConfigErrors() []FileError {
	m.mu.RLock()
	l := m.loader
	m.mu.RUnlock()
	var out []FileError
	if l != nil {
		out = l.Errors()
	}
	return append(out, m.apiErrors()...)
}

// SetEnv gives the runner an environment when it has none yet (the server
// gives its own: target policy, resolvers, CA pool ...).
func (m *Monitor) SetEnv(env *measure.Env) {
	if m.runner.Env == nil {
		m.runner.Env = env
	}
}
