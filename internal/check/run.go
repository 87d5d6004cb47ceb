package check

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/probe"
)

// Runner runs checks. The zero value runs 8 at a time (or the suite's
// concurrency), allows every target, and uses the system resolvers when a
// check names none.
type Runner struct {
	// Concurrency bounds the checks run at once; 0 means the suite's
	// setting, or 8.
	Concurrency int
	// Dialer opens every connection; nil means netpolicy.AllowAll().
	Dialer probe.Dialer
	// ResolvConf is the resolver configuration for checks that name no
	// resolver; "" means /etc/resolv.conf.
	ResolvConf string
}

// Result is the outcome of one check.
type Result struct {
	Name     string        `json:"name"`
	Kind     string        `json:"kind"`
	Target   string        `json:"target"`
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Pass     bool          `json:"pass"`
	Duration time.Duration `json:"-"`
	// Failed lists the conditions that did not hold, with the values read.
	Failed []Failure `json:"failed,omitempty"`
	// Error is the probe's own failure (connection refused ...), if any.
	Error string `json:"error,omitempty"`
	// Probe is the engine result the conditions were evaluated against.
	Probe any `json:"result,omitempty"`
}

// MarshalJSON adds duration_ms.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		DurationMS float64 `json:"duration_ms"`
	}{plain(r), float64(r.Duration.Microseconds()) / 1000})
}

// Failure is one condition that did not hold.
type Failure struct {
	Condition string `json:"condition"`
	Actual    string `json:"actual"` // the variables it read, name=value
	Error     string `json:"error,omitempty"`
}

// Summary totals a run.
type Summary struct {
	Passed int     `json:"passed"`
	Total  int     `json:"total"`
	Rate   float64 `json:"rate_percent"`
}

// Summarize totals results.
func Summarize(rs []Result) Summary {
	s := Summary{Total: len(rs)}
	for _, r := range rs {
		if r.Pass {
			s.Passed++
		}
	}
	if s.Total > 0 {
		s.Rate = 100 * float64(s.Passed) / float64(s.Total)
	}
	return s
}

// Run runs every check of the suites, at most Concurrency at once, and
// returns the results in file order. done, when not nil, is called as each
// check finishes (from several goroutines, serialised).
func (r *Runner) Run(ctx context.Context, suites []*Suite, done func(Result)) []Result {
	type job struct {
		i int
		c *Check
		d Defaults
	}
	var jobs []job
	conc := r.Concurrency
	for _, s := range suites {
		for _, c := range s.Checks {
			jobs = append(jobs, job{len(jobs), c, s.Defaults})
		}
		if conc == 0 && s.Defaults.Concurrency > 0 {
			conc = s.Defaults.Concurrency
		}
	}
	if conc <= 0 {
		conc = 8
	}
	out := make([]Result, len(jobs))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res := r.runOne(ctx, j.c, j.d)
			out[j.i] = res
			if done != nil {
				mu.Lock()
				done(res)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// runOne runs a check and evaluates its conditions (ok when it has none).
func (r *Runner) runOne(ctx context.Context, c *Check, d Defaults) Result {
	res := Result{Name: c.Name, Kind: c.Kind, Target: c.Target, File: c.File, Line: c.Line}
	start := time.Now()
	env, pr, err := r.measure(ctx, c, d)
	res.Duration = time.Since(start)
	res.Probe = pr
	if err != nil {
		res.Error = err.Error()
		env = &vars{m: map[string]any{"ok": false, "error": err.Error()}}
	}
	if e, ok := env.(*vars); ok {
		if _, set := e.m["duration"]; !set {
			e.m["duration"] = res.Duration
		}
		if msg, _ := e.m["error"].(string); msg != "" {
			res.Error = msg
		}
	}
	conds := c.Conditions
	if len(conds) == 0 {
		okCond, _ := ParseCondition("ok", nil)
		conds = []*Condition{okCond}
	}
	res.Pass = true
	for _, cond := range conds {
		held, err := cond.Eval(env)
		if held && err == nil {
			continue
		}
		res.Pass = false
		f := Failure{Condition: cond.Text, Actual: actuals(cond, env)}
		if err != nil {
			f.Error = err.Error()
		}
		res.Failed = append(res.Failed, f)
	}
	return res
}

func actuals(c *Condition, env Env) string {
	var parts []string
	for _, p := range c.Paths() {
		v, ok := env.Lookup(p)
		if !ok {
			v = nil
		}
		s := toString(v)
		if _, isStr := v.(string); isStr {
			s = fmt.Sprintf("%q", truncate(s, 120))
		}
		parts = append(parts, p+"="+s)
	}
	return strings.Join(parts, " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (r *Runner) dialer() probe.Dialer {
	if r.Dialer != nil {
		return r.Dialer
	}
	return netpolicy.AllowAll().Dialer()
}

func (r *Runner) options(c *Check, d Defaults) probe.Options {
	t := c.Options.timeout
	if t == 0 {
		t = d.Timeout
	}
	return probe.Options{Timeout: t, Dialer: r.dialer(), ConnectTo: c.Options.ConnectTo}
}

func roots(c *Check, d Defaults) (*x509.CertPool, error) {
	path := c.Options.CA
	if path == "" {
		path = d.CA
	}
	if path == "" {
		return nil, nil
	}
	return probe.LoadCAFile(path)
}

// servers resolves the resolver list of a check: its own, the suite's, or
// the system's.
func (r *Runner) servers(own []string, d Defaults) ([]dnsq.Server, error) {
	list := own
	if len(list) == 0 {
		list = d.Resolvers
	}
	if len(list) == 0 {
		return dnsq.SystemServers(r.ResolvConf)
	}
	out := make([]dnsq.Server, 0, len(list))
	for _, s := range list {
		srv, err := dnsq.ParseServer(s)
		if err != nil {
			return nil, err
		}
		out = append(out, srv)
	}
	return out, nil
}
