package monitor

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// TestNotifyGoesWithTheTransition: what Notify returns is written in the
// same batch as the state change that caused it.
func TestNotifyGoesWithTheTransition(t *testing.T) {
	t.Parallel()
	target := newFlipTarget(t)
	dir := t.TempDir()
	writeSuite(t, filepath.Join(dir, "web.yaml"), "checks:\n  - {name: web, kind: http, target: "+target.url+", interval: 1s, failure_threshold: 1, success_threshold: 1, conditions: [status == 200]}\n")
	st := openStore(t)
	clock := NewFakeClock(t0)
	var (
		mu   sync.Mutex
		runs []Run
	)
	h := &harness{results: make(chan Result, 100), events: make(chan Event, 100)}
	h.m = New(Config{Store: st, Clock: clock, FlushEvery: time.Hour, OnResult: func(_ string, r Result) { h.results <- r },
		Notify: func(r Run) []store.Notification {
			mu.Lock()
			runs = append(runs, r)
			mu.Unlock()
			if r.Transition == nil {
				return nil
			}
			return []store.Notification{{Key: r.Transition.To + r.At.String(), CheckID: r.ID, Location: r.Location, Channel: "ops", Event: r.Transition.To,
				TransitionAt: r.Transition.At, Payload: json.RawMessage(`{}`), NextAttempt: r.At, CreatedAt: r.At}}
		}})
	h.st = newStepper(h.m.sched, clock)
	l := &Loader{Monitor: h.m, Path: dir}
	if err := l.Load(); err != nil {
		t.Fatal(err)
	}
	target.failing.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Add(1)
	go func() { defer h.wg.Done(); h.m.Start(ctx) }()
	h.st.start(t)
	defer h.stop()
	h.run(t)
	target.failing.Store(false)
	h.run(t)
	h.run(t)
	if err := h.m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(runs) != 3 || runs[0].Transition == nil || runs[0].Transition.To != StatusDown || runs[0].Last == nil || runs[0].Last.Outcome != OutcomeFail ||
		runs[1].Transition == nil || runs[1].Transition.To != StatusUp || runs[2].Transition != nil || runs[2].State.Status != StatusUp || runs[0].Check.Name != "web" {
		t.Fatalf("runs %+v", runs)
	}
	mu.Unlock()
	ns, err := st.Notifications(context.Background(), "web", 10)
	if err != nil || len(ns) != 2 || ns[1].Event != StatusDown || ns[0].Event != StatusUp {
		t.Fatalf("stored %+v %v", ns, err)
	}
}
