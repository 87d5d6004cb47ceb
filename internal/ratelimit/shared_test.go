package ratelimit

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// sharedOn connects to the machine's NATS (JetStream on) as one server
// would and returns its shared limiter at clock now; it skips t without NATS.
func sharedOn(t testing.TB, policies []Policy, now func() time.Time) *Shared {
	s, _ := sharedConn(t, policies, now)
	return s
}

// sharedConn is sharedOn that also returns the connection.
func sharedConn(t testing.TB, policies []Policy, now func() time.Time) (*Shared, *nats.Conn) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second); err != nil {
		t.Skipf("no NATS server at 127.0.0.1:4222 (%v): shared rate limits need one with JetStream; .ci/run starts it", err)
	} else {
		c.Close()
	}
	nc, err := nats.Connect("nats://127.0.0.1:4222")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(policies, Policy{Name: "default", Limit: 60, Window: time.Minute}, now)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewShared(context.Background(), js, l)
	if err != nil {
		t.Fatal(err)
	}
	return s, nc
}

// TestSharedFallsBackWhenNATSIsGone: without the bucket, decisions come
// from the process's own limiter (its quota still holds) instead of
// refusing everyone or failing.
func TestSharedFallsBackWhenNATSIsGone(t *testing.T) {
	t.Parallel()
	s, nc := sharedConn(t, []Policy{{Name: "trace", Limit: 3, Window: time.Minute}}, nil)
	s.Timeout = 200 * time.Millisecond
	nc.Close()
	for i := range 3 {
		if d := s.Allow("gone", "trace", 1); !d.Allowed {
			t.Fatalf("request %d with NATS gone refused, want the local quota", i+1)
		}
	}
	if d := s.Allow("gone", "trace", 1); d.Allowed {
		t.Error("4th request with NATS gone allowed, want the local quota of 3 to hold")
	}
}

// TestSharedHoldsAcrossServers: two limiters on their own connections
// (two servers) share one quota of 10 a minute; the 11th is refused by
// either, and the quota comes back as the window slides.
func TestSharedHoldsAcrossServers(t *testing.T) {
	t.Parallel()
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	policies := []Policy{{Name: "trace", Limit: 10, Window: time.Minute}}
	a, b := sharedOn(t, policies, now), sharedOn(t, policies, now)
	client := fmt.Sprintf("test-%d", time.Now().UnixNano())
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		if d := s.Allow(client, "trace", 1); !d.Allowed || d.Remaining != 9-i {
			t.Fatalf("request %d: allowed %v remaining %d, want allowed with %d left", i+1, d.Allowed, d.Remaining, 9-i)
		}
	}
	for name, s := range map[string]*Shared{"a": a, "b": b} {
		d := s.Allow(client, "trace", 1)
		if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 2*time.Minute {
			t.Errorf("11th on %s: allowed %v retry %s, want refused with a retry within the window", name, d.Allowed, d.RetryAfter)
		}
	}
	if d := a.Allow(client+"-other", "trace", 1); !d.Allowed {
		t.Error("another client was refused, want its own quota")
	}
	// A minute and a half later half the previous window still counts:
	// 10 × 0.5 = 5 used, 5 left.
	mu.Lock()
	clock = clock.Add(90 * time.Second)
	mu.Unlock()
	allowed := 0
	for range 8 {
		if b.Allow(client, "trace", 1).Allowed {
			allowed++
		}
	}
	if allowed != 5 {
		t.Errorf("after 90 s, %d of 8 allowed, want 5 (half the last window still counts)", allowed)
	}
}

// TestSharedConcurrentCountsEveryRequest: many requests at once through
// two limiters allow exactly the limit (compare-and-set loses none).
func TestSharedConcurrentCountsEveryRequest(t *testing.T) {
	t.Parallel()
	clock := time.Date(2030, 1, 1, 0, 0, 10, 0, time.UTC)
	now := func() time.Time { return clock }
	policies := []Policy{{Name: "scan", Limit: 25, Window: time.Minute}}
	a, b := sharedOn(t, policies, now), sharedOn(t, policies, now)
	// A loaded machine must not push a decision to the local fallback.
	a.Timeout, b.Timeout = 30*time.Second, 30*time.Second
	client := fmt.Sprintf("conc-%d", time.Now().UnixNano())
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range 40 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			if s.Allow(client, "scan", 1).Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 25 {
		t.Errorf("%d of 40 concurrent requests allowed, want exactly 25", allowed)
	}
}

// BenchmarkSharedAllow measures one decision against the machine's NATS
// (two round trips: read, compare-and-set), next to the in-process one.
func BenchmarkSharedAllow(b *testing.B) {
	policies := []Policy{{Name: "dns", Limit: 1 << 30, Window: time.Minute}}
	b.Run("jetstream-kv", func(b *testing.B) {
		s := sharedOn(b, policies, nil)
		client := fmt.Sprintf("bench-%d", time.Now().UnixNano())
		for b.Loop() {
			s.Allow(client, "dns", 1)
		}
	})
	b.Run("in-process", func(b *testing.B) {
		l, _ := New(policies, Policy{Name: "default", Limit: 60, Window: time.Minute}, nil)
		for b.Loop() {
			l.Allow("bench", "dns", 1)
		}
	})
}
