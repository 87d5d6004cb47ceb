package snapshot

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/store"
)

// stepClock hands each wait of the watcher to the test, which moves the
// time and wakes it.
type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan chan time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.waits <- ch
	return ch
}

// TestWatcherReportsChanges runs the schedule on a fake clock: the first
// snapshot is stored without an event, an unchanged zone gives none, a
// changed one gives exactly one change event with the diff.
func TestWatcherReportsChanges(t *testing.T) {
	t.Parallel()
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"snap.test": zoneText(1, "192.0.2.80", "")}})
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := &stepClock{now: time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC), waits: make(chan chan time.Time)}
	changes := make(chan RecordsChanged, 4)
	w := &Watcher{Store: st, Domains: []string{"snap.test"}, Every: 10 * time.Minute, Clock: clock,
		Taker:    func(string) *Taker { return &Taker{Servers: []dnsq.Server{server(t, k)}} },
		OnChange: func(_ context.Context, c RecordsChanged) { changes <- c }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	wake := <-clock.waits // first snapshot stored, the watcher sleeps
	next := func() {
		clock.mu.Lock()
		clock.now = clock.now.Add(10 * time.Minute)
		clock.mu.Unlock()
		wake <- clock.Now()
		wake = <-clock.waits
	}
	next() // second: the same records
	k.Reload(t, "snap.test", zoneText(2, "192.0.2.81", ""), 2)
	next() // third: www changed
	cancel()
	<-done
	close(changes)
	var got []RecordsChanged
	for c := range changes {
		got = append(got, c)
	}
	if len(got) != 1 || got[0].Diff.Changed != 1 || got[0].Diff.Changes[0].Name != "www.snap.test." || got[0].Previous.Serial != 1 || got[0].Current.Serial != 2 {
		t.Fatalf("change events: %+v; want one, www changed from serial 1 to 2", got)
	}
	list, err := st.ListSnapshots(context.Background(), store.SnapshotFilter{Domain: "snap.test."})
	if err != nil || len(list) != 3 || list[0].Source != "schedule" || !list[0].TakenAt.Equal(time.Date(2026, 12, 2, 6, 20, 0, 0, time.UTC)) {
		t.Errorf("stored snapshots: %+v, %v; want 3 from the schedule, the newest at 06:20 by the fake clock", list, err)
	}
}
