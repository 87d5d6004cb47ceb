package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
)

// Runner runs checks. The zero value runs 8 at a time (or the suite's
// concurrency), allows every target, and uses the system resolvers when a
// check names none.
type Runner struct {
	// Concurrency bounds the checks run at once; 0 means the suite's
	// setting, or 8.
	Concurrency int
	// Env is what the measurements run with (target policy, resolvers,
	// geo data ...); nil means measure.Env's defaults (every target allowed).
	Env *measure.Env

	okOnce sync.Once
	ok     []*Condition // "ok", the condition of checks without any
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
	// Warned lists the check's warning conditions that did not hold (a
	// passing check with warnings is degraded in the monitor).
	Warned []Failure `json:"warned,omitempty"`
	// Error is the probe's own failure (connection refused ...), if any.
	Error string `json:"error,omitempty"`
	// Probe is the engine result the conditions were evaluated against.
	Probe any `json:"result,omitempty"`
	// Values are the variables the conditions read (nil when the
	// measurement could not run).
	Values *measure.Values `json:"-"`
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
	}
	var jobs []job
	conc := r.Concurrency
	for _, s := range suites {
		for _, c := range s.Checks {
			jobs = append(jobs, job{len(jobs), c})
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
			res := r.RunOne(ctx, j.c)
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

// RunOne runs one check through the registry and evaluates its conditions
// (ok when it has none) and its warning conditions. It is safe to call from
// several goroutines; the monitor calls it for every scheduled run.
func (r *Runner) RunOne(ctx context.Context, c *Check) Result {
	res := Result{Name: c.Name, Kind: c.Kind, Target: c.Target, File: c.File, Line: c.Line}
	start := time.Now()
	env, result, err := r.measure(ctx, c)
	res.Duration = time.Since(start)
	res.Probe = result
	if err != nil {
		res.Error = err.Error()
		env = &measure.Values{M: map[string]any{"ok": false, "error": err.Error()}}
	} else {
		res.Values = env
	}
	if _, set := env.M["duration"]; !set {
		env.M["duration"] = res.Duration
	}
	if msg, _ := env.M["error"].(string); msg != "" {
		res.Error = msg
	}
	conds := c.Conditions
	if len(conds) == 0 {
		r.okOnce.Do(func() {
			okCond, _ := ParseCondition("ok", nil)
			r.ok = []*Condition{okCond}
		})
		conds = r.ok // parsed once, not every run
	}
	res.Failed = failures(conds, env)
	res.Pass = len(res.Failed) == 0
	if res.Pass {
		res.Warned = failures(c.Watch.Warnings, env)
	}
	return res
}

// failures evaluates conditions and returns those that did not hold.
func failures(conds []*Condition, env *measure.Values) []Failure {
	var out []Failure
	for _, cond := range conds {
		held, err := cond.Eval(env)
		if held && err == nil {
			continue
		}
		f := Failure{Condition: cond.Text, Actual: actuals(cond, env)}
		if err != nil {
			f.Error = err.Error()
		}
		out = append(out, f)
	}
	return out
}

// measure prepares the check's measurement in the runner's environment,
// runs it within its time bound and returns its values for conditions.
func (r *Runner) measure(ctx context.Context, c *Check) (*measure.Values, any, error) {
	env := r.Env
	if env == nil {
		env = &measure.Env{}
	}
	plan, err := c.kind.Prepare(ctx, env, c.Target, c.Options)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, plan.Timeout)
	defer cancel()
	result, err := plan.Run(ctx, func(string, any) {})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s", plan.Timeout)
		}
		return nil, nil, err
	}
	return c.kind.Values(result), result, nil
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
