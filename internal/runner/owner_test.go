package runner

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// leaseClock is a settable clock whose After channels fire only when the
// test says so.
type leaseClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []chan time.Time
	changed chan struct{}
}

func newLeaseClock(t time.Time) *leaseClock { return &leaseClock{now: t, changed: make(chan struct{})} }

func (c *leaseClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *leaseClock) After(time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, ch)
	close(c.changed)
	c.changed = make(chan struct{})
	return ch
}

// advance moves the clock and fires every pending wait.
func (c *leaseClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, w := range c.waiters {
		w <- c.now
	}
	c.waiters = nil
}

// waitPending blocks until someone waits on the clock.
func (c *leaseClock) waitPending(t *testing.T) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		n, changed := len(c.waiters), c.changed
		c.mu.Unlock()
		if n > 0 {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatal("nothing waited on the clock")
		}
	}
}

// TestServersShareAStoreAndFailOnlyWhatIsLost: server a runs a
// measurement; server b starting on the same store leaves it running
// (it is a's, and a's lease is live); once a's lease has ended without
// renewal (a killed), b's next renewal fails it, naming a.
func TestServersShareAStoreAndFailOnlyWhatIsLost(t *testing.T) {
	t.Parallel()
	st, _ := openSQLite(t)
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	frozen := newLeaseClock(start) // a's: never renews (as if killed)
	moving := newLeaseClock(start) // b's
	g := newGate()
	a := newService(t, st, g, Config{ServerID: "a", Lease: time.Minute, Now: frozen.Now, After: frozen.After, Workers: 1})
	ctx := context.Background()
	m, err := a.Create(ctx, dnsRequest("slow.example.test", "ip:198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	<-g.started
	newService(t, st, newGate(), Config{ServerID: "b", Lease: time.Minute, Now: moving.Now, After: moving.After})
	got, err := st.GetMeasurement(ctx, m.ID)
	if err != nil || got.Status != store.StatusRunning || got.Owner != "a" {
		t.Fatalf("after server b started: %+v %v, want a's measurement still running", got, err)
	}
	// Within a's lease b's renewal leaves it alone.
	moving.waitPending(t)
	moving.advance(30 * time.Second)
	moving.waitPending(t)
	if got, _ := st.GetMeasurement(ctx, m.ID); got.Status != store.StatusRunning {
		t.Fatalf("within a's lease: %s %q, want running", got.Status, got.Error)
	}
	// After it, b fails it.
	moving.advance(time.Minute)
	moving.waitPending(t)
	got, err = st.GetMeasurement(ctx, m.ID)
	if err != nil || got.Status != store.StatusFailed || !strings.Contains(got.Error, "server a stopped") {
		t.Errorf("after a's lease ended: %+v %v, want failed naming server a", got, err)
	}
}
