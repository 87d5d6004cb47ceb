package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/store"
)

// CheckView is a watched check with its state, for the API and the pages.
type CheckView struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Suite            string            `json:"suite"`
	Kind             string            `json:"kind"`
	Target           string            `json:"target"`
	Group            string            `json:"group,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
	Public           bool              `json:"public"`
	IntervalSeconds  float64           `json:"interval_seconds"`
	FailureThreshold int               `json:"failure_threshold"`
	SuccessThreshold int               `json:"success_threshold"`
	Conditions       []string          `json:"conditions,omitempty"`
	Warnings         []string          `json:"warning,omitempty"`
	Maintenance      []string          `json:"maintenance,omitempty"`
	File             string            `json:"file"`
	Line             int               `json:"line"`
	// Origin is "file" (read-only through the API) or "api".
	Origin string `json:"origin"`
	// Definition is an API check's body as stored (to change and PUT back).
	Definition json.RawMessage `json:"definition,omitempty"`
	Location   string          `json:"location"`
	Status     string          `json:"status"`
	Health     string          `json:"health"`
	Since      time.Time       `json:"since"`
	Last       *Result         `json:"last,omitempty"`
	// CertExpiry is when the certificate seen by the last run expires.
	CertExpiry *time.Time `json:"cert_expiry,omitempty"`
}

func (m *Monitor) view(w *watched) CheckView {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.c
	v := CheckView{ID: w.id, Name: c.Name, Suite: w.suite, Kind: c.Kind, Target: c.Target, Group: c.Watch.Group,
		Labels: c.Watch.Labels, Public: c.Watch.Public, IntervalSeconds: c.Watch.Interval.Seconds(),
		FailureThreshold: c.Watch.FailureThreshold, SuccessThreshold: c.Watch.SuccessThreshold,
		File: c.File, Line: c.Line, Location: m.cfg.Location, Status: w.state.Status, Health: w.state.Health,
		Since: w.state.Since, Last: w.last, Origin: "file"}
	if w.body != nil {
		v.Origin, v.Definition = "api", w.body
	}
	if e := w.sample.certExpiry; !e.IsZero() {
		v.CertExpiry = &e
	}
	for _, cond := range c.Conditions {
		v.Conditions = append(v.Conditions, cond.Text)
	}
	for _, cond := range c.Watch.Warnings {
		v.Warnings = append(v.Warnings, cond.Text)
	}
	for _, win := range c.Watch.Maintenance {
		v.Maintenance = append(v.Maintenance, win.String())
	}
	return v
}

// Checks lists the watched checks by group and name.
func (m *Monitor) Checks() []CheckView {
	m.mu.RLock()
	ws := make([]*watched, 0, len(m.checks))
	for _, w := range m.checks {
		ws = append(ws, w)
	}
	m.mu.RUnlock()
	out := make([]CheckView, len(ws))
	for i, w := range ws {
		out[i] = m.view(w)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Check returns one check.
func (m *Monitor) Check(id string) (CheckView, error) {
	w := m.lookup(id)
	if w == nil {
		return CheckView{}, fmt.Errorf("%w: %q", ErrNoCheck, id)
	}
	return m.view(w), nil
}

// Suite returns the check itself (to run it elsewhere, or for --watch).
func (m *Monitor) Suite(id string) (*check.Check, error) {
	w := m.lookup(id)
	if w == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoCheck, id)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c, nil
}

func (m *Monitor) history(id string) (Store, error) {
	if m.lookup(id) == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoCheck, id)
	}
	if m.cfg.Store == nil {
		return nil, fmt.Errorf("no history: the monitor runs without a store")
	}
	return m.cfg.Store, nil
}

// Results returns a check's runs before before (zero: the newest), newest
// first, at most limit; onlyFailed keeps warn and fail runs.
func (m *Monitor) Results(ctx context.Context, id string, before time.Time, limit int, onlyFailed bool) ([]store.CheckResult, error) {
	st, err := m.history(id)
	if err != nil {
		return nil, err
	}
	return st.MonitorResults(ctx, id, before, limit, onlyFailed)
}

// Transitions returns a check's state changes, newest first.
func (m *Monitor) Transitions(ctx context.Context, id string, limit int) ([]store.CheckTransition, error) {
	st, err := m.history(id)
	if err != nil {
		return nil, err
	}
	return st.MonitorTransitions(ctx, id, limit)
}

// Windows are the uptime windows, each read from the rollups of a level.
var Windows = []struct {
	Name  string
	Span  time.Duration
	Level string
}{
	{"24h", 24 * time.Hour, store.LevelHour},
	{"7d", 7 * 24 * time.Hour, store.LevelHour},
	{"30d", 30 * 24 * time.Hour, store.LevelDay},
	{"90d", 90 * 24 * time.Hour, store.LevelDay},
	{"365d", 365 * 24 * time.Hour, store.LevelDay},
}

// Uptime is a check's record over a window.
type Uptime struct {
	Window string `json:"window"`
	Runs   int64  `json:"runs"`
	Passed int64  `json:"passed"`
	Warned int64  `json:"warned"`
	// Ratio is passed/runs (warned runs pass); null without runs.
	Ratio  *float64 `json:"ratio"`
	MeanMS *float64 `json:"mean_ms"`
	// P50MS, P95MS and P99MS are read from the latency buckets (linear
	// within a bucket).
	P50MS *float64 `json:"p50_ms"`
	P95MS *float64 `json:"p95_ms"`
	P99MS *float64 `json:"p99_ms"`
}

// UptimeOf sums rollups into an Uptime.
func UptimeOf(window string, rs []store.Rollup) Uptime {
	var sum store.Rollup
	for i := range rs {
		sum.Add(&rs[i])
	}
	u := Uptime{Window: window, Runs: sum.N, Passed: sum.OK, Warned: sum.Warn}
	if sum.N == 0 {
		return u
	}
	ratio := float64(sum.OK) / float64(sum.N)
	mean := ms(sum.Sum) / float64(sum.N)
	u.Ratio, u.MeanMS = &ratio, &mean
	p := func(q float64) *float64 { v := Percentile(&sum, q); return &v }
	u.P50MS, u.P95MS, u.P99MS = p(0.5), p(0.95), p(0.99)
	return u
}

// Percentile estimates the q-quantile of a rollup's latencies in ms: the
// bucket holding it, linearly within the bucket, clamped to min and max.
func Percentile(r *store.Rollup, q float64) float64 {
	if r.N == 0 {
		return math.NaN()
	}
	rank := q * float64(r.N)
	var seen float64
	lo := 0.0
	for i, n := range r.Buckets {
		hi := ms(r.Max)
		if i < len(store.LatencyBoundsMS) {
			hi = store.LatencyBoundsMS[i]
		}
		if n > 0 && seen+float64(n) >= rank {
			v := lo + (hi-lo)*(rank-seen)/float64(n)
			return math.Max(ms(r.Min), math.Min(v, ms(r.Max)))
		}
		seen += float64(n)
		lo = hi
	}
	return ms(r.Max)
}

// Uptimes returns a check's uptime over every window ending now.
func (m *Monitor) Uptimes(ctx context.Context, id string) ([]Uptime, error) {
	st, err := m.history(id)
	if err != nil {
		return nil, err
	}
	now := m.clock.Now()
	var out []Uptime
	for _, w := range Windows {
		from := bucketOf(w.Level, now.Add(-w.Span))
		rs, err := st.MonitorRollups(ctx, id, w.Level, from, now.Add(time.Second))
		if err != nil {
			return nil, err
		}
		out = append(out, UptimeOf(w.Name, rs))
	}
	return out, nil
}

// Bucket is one rollup for charts and uptime bars.
type Bucket struct {
	At     time.Time `json:"at"`
	Runs   int64     `json:"runs"`
	Passed int64     `json:"passed"`
	Warned int64     `json:"warned"`
	MeanMS float64   `json:"mean_ms"`
	MaxMS  float64   `json:"max_ms"`
	P95MS  float64   `json:"p95_ms"`
}

// Series returns a check's rollups of a level (m, h or d) over the span
// ending now, oldest first.
func (m *Monitor) Series(ctx context.Context, id, level string, span time.Duration) ([]Bucket, error) {
	st, err := m.history(id)
	if err != nil {
		return nil, err
	}
	now := m.clock.Now()
	rs, err := st.MonitorRollups(ctx, id, level, bucketOf(level, now.Add(-span)), now.Add(time.Second))
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, 0, len(rs))
	for i := range rs {
		r := &rs[i]
		if n := len(out); n > 0 && out[n-1].At.Equal(r.Bucket) {
			continue // another location: the API shows this one's
		}
		out = append(out, bucketFrom(r))
	}
	return out, nil
}

func bucketFrom(r *store.Rollup) Bucket {
	return Bucket{At: r.Bucket, Runs: r.N, Passed: r.OK, Warned: r.Warn, MeanMS: ms(r.Sum) / float64(max(r.N, 1)),
		MaxMS: ms(r.Max), P95MS: Percentile(r, 0.95)}
}
