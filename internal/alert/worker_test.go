package alert

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/store"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// hook is a webhook receiver whose answer the test sets; it records the
// idempotency key and the event of every request.
type hook struct {
	mu     sync.Mutex
	status int
	header map[string]string
	seen   []string // key event/status
	srv    *httptest.Server
}

func newHook(t *testing.T) *hook {
	h := &hook{status: 200}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		m := decode(t, b)
		h.seen = append(h.seen, r.Header.Get("Idempotency-Key")+" "+m["event"].(string)+"/"+m["status"].(string))
		for k, v := range h.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(h.status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) set(status int, header map[string]string) {
	h.mu.Lock()
	h.status, h.header = status, header
	h.mu.Unlock()
}

func (h *hook) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

type fixture struct {
	st    *store.Store
	clock *monitor.FakeClock
	w     *Worker
	r     *Router
	c     *check.Check
	hook  *hook
}

func newFixture(t *testing.T, alerts string) *fixture {
	t.Helper()
	f := &fixture{clock: monitor.NewFakeClock(t0), hook: newHook(t), r: &Router{BaseURL: "https://dnss.example.test"}}
	var err error
	if f.st, err = store.Open(context.Background(), filepath.Join(t.TempDir(), "a.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	s, err := check.Parse("s.yaml", []byte(`channels: [{name: ops, type: webhook, url: "`+f.hook.srv.URL+`"}]
checks:
  - {name: web, kind: tcp, target: "127.0.0.1:1", `+alerts+`}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.c = s.Checks[0]
	senders, err := BuildSuite(s, loopbackEnv())
	if err != nil {
		t.Fatal(err)
	}
	f.w = &Worker{Store: f.st, Clock: f.clock, Jitter: func() float64 { return 0.5 }, Backoff: 10 * time.Second, MaxAttempts: 4}
	f.w.SetSenders(senders)
	return f
}

// change runs the router for a state change at the clock's time and
// stores what it returns as the monitor would.
func (f *fixture) change(t *testing.T, from, to string) {
	t.Helper()
	now := f.clock.Now()
	run := monitor.Run{Check: f.c, ID: f.c.ID(), Location: "local", At: now, State: monitor.State{Status: to, Since: now},
		Transition: &monitor.Event{Check: f.c.ID(), Location: "local", At: now, From: from, To: to}, Last: &monitor.Result{Outcome: "fail", Phase: "connect", Error: "refused"}}
	f.save(t, run)
}

func (f *fixture) save(t *testing.T, run monitor.Run) {
	t.Helper()
	b := &store.MonitorBatch{Notifications: f.r.Notify(run)}
	if run.Transition != nil {
		b.Transitions = []store.CheckTransition{{CheckID: run.ID, Location: run.Location, At: run.At, From: run.Transition.From, To: run.Transition.To}}
	}
	if err := f.st.SaveMonitor(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) deliver(t *testing.T) int {
	t.Helper()
	n, err := f.w.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) notes(t *testing.T) []store.Notification {
	t.Helper()
	ns, err := f.st.Notifications(context.Background(), f.c.ID(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestRetriesInOrderWithOneKey: the receiver is down (503 with
// Retry-After), the check goes down and recovers; nothing is delivered out
// of order, the trigger is retried when the receiver said, and every
// attempt of one notification carries the same key.
func TestRetriesInOrderWithOneKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "alerts: [ops]")
	f.hook.set(503, map[string]string{"Retry-After": "30"})
	f.change(t, "up", "down")
	f.clock.Advance(time.Second)
	f.change(t, "down", "up")
	if n := f.deliver(t); n != 1 {
		t.Fatalf("claimed %d; the resolve must wait for the trigger", n)
	}
	f.clock.Advance(29 * time.Second)
	if n := f.deliver(t); n != 0 {
		t.Fatalf("claimed %d before Retry-After", n)
	}
	f.hook.set(200, nil)
	f.clock.Advance(time.Second)
	if n := f.deliver(t); n != 1 {
		t.Fatalf("claimed %d at Retry-After", n)
	}
	if n := f.deliver(t); n != 1 {
		t.Fatalf("the resolve: claimed %d", n)
	}
	got := f.hook.got()
	if len(got) != 3 || got[0] != got[1] || !strings.HasSuffix(got[0], " trigger/down") || !strings.HasSuffix(got[2], " resolve/up") {
		t.Fatalf("receiver saw %q", got)
	}
	ns := f.notes(t)
	if len(ns) != 2 || ns[1].Status != store.NoteDelivered || ns[1].Attempts != 2 || !strings.Contains(ns[1].LastError, "503") || ns[0].Status != store.NoteDelivered {
		t.Fatalf("outbox %+v", ns)
	}
}

// TestBackoffThenDeadLetter: a failing receiver is retried with doubling
// delays, then the notification is a dead letter that can be retried.
func TestBackoffThenDeadLetter(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "alerts: [ops]")
	f.hook.set(500, nil)
	f.change(t, "up", "down")
	var delays []time.Duration
	for range 4 {
		if n := f.deliver(t); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		n := f.notes(t)[0]
		if n.Status == store.NoteDead {
			break
		}
		d := n.NextAttempt.Sub(f.clock.Now())
		delays = append(delays, d)
		f.clock.Advance(d)
	}
	if len(delays) != 3 || delays[0] != 10*time.Second || delays[1] != 20*time.Second || delays[2] != 40*time.Second {
		t.Fatalf("delays %v; want 10s 20s 40s (jitter fixed at its middle)", delays)
	}
	dead, _ := f.st.DeadNotifications(context.Background(), 10)
	if len(dead) != 1 || dead[0].Attempts != 4 {
		t.Fatalf("dead %+v", dead)
	}
	f.hook.set(200, nil)
	if err := f.st.RetryNotification(context.Background(), dead[0].Seq, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.deliver(t)
	if n := f.notes(t)[0]; n.Status != store.NoteDelivered {
		t.Fatalf("after retry %+v", n)
	}
	// A 4xx other than 408/429 cannot succeed: dead at once.
	f.hook.set(410, nil)
	f.clock.Advance(time.Minute)
	f.change(t, "up", "down")
	f.deliver(t)
	if n := f.notes(t)[0]; n.Status != store.NoteDead || n.Attempts != 1 {
		t.Fatalf("410: %+v", n)
	}
}

func TestSilenced(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "alerts: [ops]")
	if _, err := f.st.AddSilence(context.Background(), store.Silence{CheckID: f.c.ID(), ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	f.change(t, "up", "down")
	f.deliver(t)
	if n := f.notes(t)[0]; n.Status != store.NoteSilenced || len(f.hook.got()) != 0 {
		t.Fatalf("silenced: %+v, receiver saw %v", n, f.hook.got())
	}
	f.clock.Advance(2 * time.Hour)
	f.change(t, "down", "up")
	f.deliver(t)
	if got := f.hook.got(); len(got) != 1 || !strings.HasSuffix(got[0], "resolve/up") {
		t.Fatalf("after the silence: %v", got)
	}
}

// TestRouting: which state changes send what.
func TestRouting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		alerts string
		from   []string // pairs from>to
		want   string
	}{
		{"alerts: [ops]", []string{"pending>up", "up>down", "down>up"}, "trigger/down resolve/up"},
		{"alerts: [ops], send_on_resolved: false", []string{"up>down", "down>up"}, "trigger/down"},
		{"alerts: [ops]", []string{"up>degraded", "degraded>up"}, ""},
		{"alerts: [ops], alert_on_degraded: true", []string{"up>degraded", "degraded>down", "down>up"}, "trigger/degraded trigger/down resolve/up"},
		{"alerts: [ops]", []string{"up>maintenance", "maintenance>up", "up>down", "down>maintenance", "maintenance>down"}, "trigger/down trigger/down"},
		{"", []string{"up>down"}, ""},
	} {
		f := newFixture(t, tc.alerts)
		for _, p := range tc.from {
			from, to, _ := strings.Cut(p, ">")
			f.change(t, from, to)
			f.clock.Advance(time.Second)
		}
		for f.deliver(t) > 0 {
		}
		var got []string
		for _, s := range f.hook.got() {
			_, ev, _ := strings.Cut(s, " ")
			got = append(got, ev)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s %v: sent %q, want %q", tc.alerts, tc.from, got, tc.want)
		}
	}
}

// TestReminders: while down, one reminder every repeat_interval.
func TestReminders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "alerts: [ops], repeat_interval: 10m")
	f.change(t, "up", "down")
	for range 25 { // a run a minute for 25 minutes
		f.clock.Advance(time.Minute)
		now := f.clock.Now()
		f.save(t, monitor.Run{Check: f.c, ID: f.c.ID(), Location: "local", At: now, State: monitor.State{Status: "down"}})
	}
	for f.deliver(t) > 0 {
	}
	got := f.hook.got()
	if len(got) != 3 || !strings.HasSuffix(got[1], "reminder/down") || !strings.HasSuffix(got[2], "reminder/down") || got[1][:32] == got[2][:32] {
		t.Fatalf("got %v; want the trigger and two reminders with their own keys", got)
	}
}
