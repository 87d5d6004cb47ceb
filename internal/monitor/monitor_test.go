package monitor

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/dnsscience/dnsscience/internal/store"
)

// flipTarget is an HTTP server on loopback answering 200, or 503 while failing.
type flipTarget struct {
	url     string
	failing atomic.Bool
}

func newFlipTarget(t *testing.T) *flipTarget {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ft := &flipTarget{url: "http://" + ln.Addr().String() + "/health"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if ft.failing.Load() {
			http.Error(w, "down for a test", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return ft
}

// harness runs a monitor on a fake clock, one scheduled run at a time.
type harness struct {
	m       *Monitor
	st      *stepper
	results chan Result
	events  chan Event
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func startMonitor(t *testing.T, s Store, dir string, clock *FakeClock) (*harness, *Loader) {
	t.Helper()
	h := &harness{results: make(chan Result, 100), events: make(chan Event, 100)}
	h.m = New(Config{Store: s, Clock: clock, FlushEvery: time.Hour,
		OnResult: func(_ string, r Result) { h.results <- r }, OnTransition: func(e Event) { h.events <- e }})
	h.st = newStepper(h.m.sched, clock)
	if err := h.m.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := &Loader{Monitor: h.m, Path: dir}
	if err := l.Load(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Add(1)
	go func() { defer h.wg.Done(); h.m.Start(ctx) }()
	h.st.start(t)
	return h, l
}

// run steps to the next scheduled run and returns its result.
func (h *harness) run(t *testing.T) Result {
	t.Helper()
	if _, n := h.st.step(t); n != 1 {
		t.Fatalf("%d runs started at once; want 1", n)
	}
	return <-h.results
}

func (h *harness) stop() {
	h.cancel()
	h.wg.Wait()
}

func writeSuite(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMonitorDownAfterThreeUpAfterTwoAndRestart(t *testing.T) {
	t.Parallel()
	target := newFlipTarget(t)
	dir := t.TempDir()
	writeSuite(t, filepath.Join(dir, "web.yaml"), `name: web
defaults: {interval: 1s, group: edge, labels: {team: platform}}
checks:
  - name: Web health
    kind: http
    target: `+target.url+`
    conditions: [status == 200]
`)
	st := openStore(t)
	clock := NewFakeClock(t0)
	h, _ := startMonitor(t, st, dir, clock)
	var outcomes []string
	plan := "ooffffoo"
	for _, p := range plan {
		target.failing.Store(p == 'f')
		outcomes = append(outcomes, h.run(t).Outcome)
	}
	if got := strings.Join(outcomes, ","); got != "ok,ok,fail,fail,fail,fail,ok,ok" {
		t.Fatalf("outcomes %s; want them to follow the target", got)
	}
	var changes []string
	for len(h.events) > 0 {
		e := <-h.events
		changes = append(changes, e.From+">"+e.To)
	}
	if got := strings.Join(changes, " "); got != "pending>up up>down down>up" {
		t.Errorf("changes %q; want pending>up up>down (third failure) down>up (second success)", got)
	}
	v, err := h.m.Check("web-health")
	if err != nil || v.Status != StatusUp || v.Group != "edge" || v.Labels["team"] != "platform" {
		t.Fatalf("check = %+v, %v", v, err)
	}

	// Metrics: a scrape passes promtool and carries the check's labels.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.m.Collector())
	if n, err := testutil.GatherAndCount(reg, "probe_success", "probe_http_status_code", "dnsscience_check_state"); err != nil || n != 7 {
		t.Errorf("got %d series of probe_success, probe_http_status_code and dnsscience_check_state (%v); want 1+1+5", n, err)
	}
	promtoolCheck(t, h.m.Collector())
	// Uptime ratios: 4 of the 8 runs passed, all within the last hour.
	for _, window := range []string{"1h", "7d", "90d"} {
		if got := gaugeValue(t, reg, "dnsscience_check_uptime_ratio", "window", window); got != 0.5 {
			t.Errorf("uptime ratio %s = %g; want 0.5 (4 of 8 runs passed)", window, got)
		}
	}
	h.stop() // writes what is pending

	// Restart: the state and history are back.
	h2, _ := startMonitor(t, st, dir, clock)
	defer h2.stop()
	v, _ = h2.m.Check("web-health")
	if v.Status != StatusUp || v.Last == nil || v.Last.Outcome != OutcomeOK {
		t.Errorf("after a restart: %+v; want up with the last result", v)
	}
	target.failing.Store(true)
	h2.run(t)
	if v, _ = h2.m.Check("web-health"); v.Status != StatusUp {
		t.Errorf("one failure after a restart: %s; want still up (the counters were restored)", v.Status)
	}
	if err := h2.m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := h2.m.Results(ctx, "web-health", time.Time{}, 100, false)
	if err != nil || len(res) != len(plan)+1 {
		t.Fatalf("%d results, %v; want %d", len(res), err, len(plan)+1)
	}
	if res[0].Outcome != OutcomeFail || !strings.Contains(string(res[0].Evidence), "status == 200") {
		t.Errorf("newest result %+v: want the failure with its condition", res[0])
	}
	tr, err := h2.m.Transitions(ctx, "web-health", 10)
	if err != nil || len(tr) != 3 || tr[0].To != StatusUp || tr[1].To != StatusDown {
		t.Errorf("transitions = %+v, %v", tr, err)
	}
	checkRollupsMatchRaw(t, h2.m, res)
}

// checkRollupsMatchRaw sums the raw results and compares every level.
func checkRollupsMatchRaw(t *testing.T, m *Monitor, raw []store.CheckResult) {
	t.Helper()
	var want store.Rollup
	for _, r := range raw {
		// Durations are stored in microseconds.
		want.Observe(r.Outcome, r.Duration)
	}
	ups, err := m.Uptimes(context.Background(), "web-health")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups {
		if u.Runs != want.N || u.Passed != want.OK || *u.Ratio != float64(want.OK)/float64(want.N) {
			t.Errorf("uptime %s = %d runs %d passed; raw has %d and %d", u.Window, u.Runs, u.Passed, want.N, want.OK)
		}
		if *u.P95MS != Percentile(&want, 0.95) {
			t.Errorf("uptime %s p95 = %g ms; from the raw results %g", u.Window, *u.P95MS, Percentile(&want, 0.95))
		}
	}
	for _, level := range []string{store.LevelMinute, store.LevelHour, store.LevelDay} {
		rs, err := m.cfg.Store.MonitorRollups(context.Background(), "web-health", level, t0.Add(-48*time.Hour), t0.Add(48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var got store.Rollup
		for i := range rs {
			got.Add(&rs[i])
		}
		got.CheckID, got.Location, got.Level, got.Bucket = "", "", "", time.Time{}
		if got != want {
			t.Errorf("level %s sums to %+v; the raw results to %+v", level, got, want)
		}
	}
}

// gaugeValue is the value of the one series of name whose label has value.
func gaugeValue(t *testing.T, g prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}

func promtoolCheck(t *testing.T, c prometheus.Collector) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install the Debian package prometheus (make deps)")
	}
	text, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(text))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text)
	}
}
