package server

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// TestFinishedMeasurementCache: a finished measurement is served from
// memory once read (here: after retention deleted it from the store) until
// doneCacheTTL, then the store answers again (404); a running one and a
// large one are always read from the store.
func TestFinishedMeasurementCache(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ts := startServer(t, Config{Now: clock})
	ctx := context.Background()
	small := &store.Measurement{Type: "dns", Target: "a.example.test", Status: "finished", Result: []byte(`{"ok":true}`), CreatedAt: now.Add(-time.Hour)}
	big := &store.Measurement{Type: "dns", Target: "b.example.test", Status: "finished", CreatedAt: now.Add(-time.Hour),
		Result: []byte(`{"pad":"` + strings.Repeat("x", doneCacheMaxBody) + `"}`)}
	running := &store.Measurement{Type: "dns", Target: "c.example.test", Status: "running", CreatedAt: now.Add(-time.Hour)}
	for _, m := range []*store.Measurement{small, big, running} {
		if err := ts.srv.store.CreateMeasurement(ctx, m); err != nil {
			t.Fatal(err)
		}
		if resp := ts.get(t, "/api/v1/measurements/"+m.ID, nil); resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", m.Target, resp.StatusCode)
		}
	}
	if _, err := ts.srv.store.DeleteMeasurementsBefore(ctx, now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m    *store.Measurement
		want int
	}{{small, 200}, {big, 404}, {running, 404}} {
		if resp := ts.get(t, "/api/v1/measurements/"+c.m.ID, nil); resp.StatusCode != c.want {
			t.Errorf("GET %s after deletion: %d, want %d", c.m.Target, resp.StatusCode, c.want)
		}
	}
	mu.Lock()
	now = now.Add(doneCacheTTL)
	mu.Unlock()
	if resp := ts.get(t, "/api/v1/measurements/"+small.ID, nil); resp.StatusCode != 404 {
		t.Errorf("GET %s after the cache TTL: %d, want 404", small.Target, resp.StatusCode)
	}
}
