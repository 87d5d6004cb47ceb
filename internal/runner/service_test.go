package runner

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/store"
)

// gate is a dispatcher (a location's way of running measurements) that the
// test controls: each run reports that it started, then waits until the
// test opens the gate (it then returns a small result) or its context ends.
type gate struct {
	started chan string // the target of each run, as it starts
	open    chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{started: make(chan string, 256), open: make(chan struct{})} }

func (g *gate) Dispatch(ctx context.Context, p *measure.Plan, _ measure.Emit) (any, error) {
	g.started <- p.Target
	if strings.HasPrefix(p.Target, "fast.") {
		return map[string]string{"target": p.Target}, nil
	}
	select {
	case <-g.open:
		return map[string]string{"target": p.Target}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *gate) Online() (bool, string) { return true, "" }
func (g *gate) release()               { g.once.Do(func() { close(g.open) }) }

func openSQLite(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), store.DefaultFileName)
	st, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

func newService(t *testing.T, st *store.Store, g *gate, cfg Config) *Service {
	t.Helper()
	up, err := dnsq.ParseServer("127.0.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Env = st, &measure.Env{Upstream: []dnsq.Server{up}}
	cfg.Dispatchers = map[string]Dispatcher{"local": g}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.release()
		_ = s.Shutdown(context.Background())
	})
	return s
}

func dnsRequest(target, client string) Request {
	return Request{Kind: "dns", Target: target, ClientID: client}
}

// lastEvent reads a subscription to its end and returns the last event.
func lastEvent(t *testing.T, events <-chan Event) Event {
	t.Helper()
	var last Event
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return last
			}
			last = ev
		case <-timeout:
			t.Fatal("the stream did not end")
		}
	}
}

// TestOneClientCannotTakeTheWorkers: a client that floods the service
// fills its own bounded queue and its share of the workers (a 429-worthy
// *BusyError past the bound); another client's measurement starts at once.
func TestOneClientCannotTakeTheWorkers(t *testing.T) {
	t.Parallel()
	st, _ := openSQLite(t)
	g := newGate()
	s := newService(t, st, g, Config{Workers: 4, ClientShare: 2, ClientQueue: 6})
	ctx := context.Background()
	for i := range 6 {
		if _, err := s.Create(ctx, dnsRequest("slow.example.test", "ip:198.51.100.1")); err != nil {
			t.Fatalf("flooding measurement %d: %v", i+1, err)
		}
	}
	_, err := s.Create(ctx, dnsRequest("slow.example.test", "ip:198.51.100.1"))
	var busy *BusyError
	if !errors.As(err, &busy) || busy.RetryAfter <= 0 || busy.Pending != 6 {
		t.Fatalf("7th measurement of one client: %v, want a *BusyError with 6 pending and a retry delay", err)
	}
	for range 2 {
		<-g.started // the flood's share
	}
	if _, err := s.Create(ctx, dnsRequest("fast.example.test", "ip:198.51.100.2")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-g.started:
		if got != "fast.example.test" {
			t.Fatalf("started %s, want the other client's measurement (the flood has its share of 2 workers)", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the other client's measurement did not start while the flood held its share")
	}
}

// TestTimeoutCountsFromAcceptance: a measurement that waits for a worker
// longer than its timeout fails as timed out while queued, with the reason.
func TestTimeoutCountsFromAcceptance(t *testing.T) {
	t.Parallel()
	st, _ := openSQLite(t)
	g := newGate()
	s := newService(t, st, g, Config{Workers: 1, ClientShare: 1})
	ctx := context.Background()
	if _, err := s.Create(ctx, dnsRequest("slow.example.test", "ip:198.51.100.1")); err != nil {
		t.Fatal(err)
	}
	<-g.started
	m, err := s.Create(ctx, Request{Kind: "dns", Target: "slow.example.test", ClientID: "ip:198.51.100.2", Options: []byte(`{"timeout":"300ms"}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, events, cancel, live := s.Subscribe(m.ID)
	defer cancel()
	if !live {
		t.Fatal("the queued measurement has no stream")
	}
	last := lastEvent(t, events)
	got, err := s.Get(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusFailed || !strings.Contains(got.Error, "waiting for a worker") || !got.StartedAt.IsZero() {
		t.Errorf("stored %s %q started %v, want failed waiting for a worker, never started", got.Status, got.Error, got.StartedAt)
	}
	if last.Type != "result" || !strings.Contains(string(last.Data), `"status":"failed"`) {
		t.Errorf("last event %s %s, want the stored failure", last.Type, last.Data)
	}
}

// TestShutdownFailsInterruptedAndTellsTheStreams: SIGTERM's Shutdown
// stores running and queued measurements as failed "interrupted", and each
// stream's last event is that stored state.
func TestShutdownFailsInterruptedAndTellsTheStreams(t *testing.T) {
	t.Parallel()
	st, _ := openSQLite(t)
	g := newGate()
	s := newService(t, st, g, Config{Workers: 1, ClientShare: 1})
	ctx := context.Background()
	running, err := s.Create(ctx, dnsRequest("slow.example.test", "ip:198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	<-g.started
	queued, err := s.Create(ctx, dnsRequest("slow.example.test", "ip:198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	streams := map[string]<-chan Event{}
	for _, m := range []*store.Measurement{running, queued} {
		_, events, cancel, live := s.Subscribe(m.ID)
		defer cancel()
		if !live {
			t.Fatalf("%s has no stream", m.ID)
		}
		streams[m.ID] = events
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{running.ID: ReasonShutdown, queued.ID: ReasonShutdownQueued} {
		last := lastEvent(t, streams[id])
		got, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.StatusFailed || got.Error != want {
			t.Errorf("%s stored %s %q, want failed %q", id, got.Status, got.Error, want)
		}
		if last.Type != "result" || !strings.Contains(string(last.Data), want) || !strings.Contains(string(last.Data), `"status":"failed"`) {
			t.Errorf("%s: last event %s %s, want the stored failure", id, last.Type, last.Data)
		}
	}
}

// TestStartUpFailsWhatACrashLeftRunning: rows a killed process left queued
// or running (what kill -9 leaves: the process is gone, the rows stay) are
// failed, with the reason, when a service starts on the store.
func TestStartUpFailsWhatACrashLeftRunning(t *testing.T) {
	t.Parallel()
	st, path := openSQLite(t)
	g := newGate()
	crashed := newService(t, st, g, Config{Workers: 1})
	ctx := context.Background()
	var ids []string
	for range 2 { // one running, one queued
		m, err := crashed.Create(ctx, dnsRequest("slow.example.test", "ip:198.51.100.1"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	<-g.started
	// The crashed process never ends them; a new one opens the same file.
	st2, err := store.Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	restarted := newService(t, st2, newGate(), Config{})
	for _, id := range ids {
		m, err := restarted.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != store.StatusFailed || m.Error != ReasonCrashed || m.FinishedAt.IsZero() {
			t.Errorf("%s after restart: %s %q finished %v, want failed %q", id, m.Status, m.Error, m.FinishedAt, ReasonCrashed)
		}
	}
	left, err := st2.ListMeasurements(ctx, store.Filter{Status: store.StatusRunning})
	if err != nil || len(left) != 0 {
		t.Errorf("running rows after restart: %d (%v), want none", len(left), err)
	}
}

// TestControlBytesInTargetsAreRefused: a NUL (or any control byte) in a
// target is a field error at submission, for every kind.
func TestControlBytesInTargetsAreRefused(t *testing.T) {
	t.Parallel()
	st, _ := openSQLite(t)
	s := newService(t, st, newGate(), Config{})
	for _, target := range []string{"a\x00.example.test", "a.example.test\n", "\x7f"} {
		_, err := s.Create(context.Background(), dnsRequest(target, "ip:198.51.100.1"))
		var fe *measure.FieldError
		if !errors.As(err, &fe) || fe.Field != "target" {
			t.Errorf("target %q: %v, want a field error on target", target, err)
		}
	}
}
