package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/store"
)

// waitRenewal waits until the lease loop on c waits for its next turn
// (so the previous renewal and sweep are done).
func waitRenewal(t *testing.T, c *monitor.FakeClock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.BlockUntil(ctx, 1); err != nil {
		t.Fatalf("the lease loop did not wait on the clock: %v", err)
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
	frozen := monitor.NewFakeClock(start) // a's: never renews (as if killed)
	moving := monitor.NewFakeClock(start) // b's
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
	waitRenewal(t, moving)
	moving.Advance(30 * time.Second)
	waitRenewal(t, moving)
	if got, _ := st.GetMeasurement(ctx, m.ID); got.Status != store.StatusRunning {
		t.Fatalf("within a's lease: %s %q, want running", got.Status, got.Error)
	}
	// After it, b fails it.
	moving.Advance(time.Minute)
	waitRenewal(t, moving)
	got, err = st.GetMeasurement(ctx, m.ID)
	if err != nil || got.Status != store.StatusFailed || !strings.Contains(got.Error, "server a stopped") {
		t.Errorf("after a's lease ended: %+v %v, want failed naming server a", got, err)
	}
}
