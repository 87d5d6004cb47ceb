package ratelimit

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newLimiter(t *testing.T, c *clock) *Limiter {
	l, err := New([]Policy{{Name: "trace", Limit: 10, Window: time.Minute}}, Policy{Name: "default", Limit: 100, Window: time.Minute}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestTraceTenPerMinutePerClient(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	l := newLimiter(t, c)
	for i := range 10 {
		d := l.Allow("203.0.113.1", "trace", 1)
		if !d.Allowed || d.Remaining != 9-i {
			t.Fatalf("request %d: allowed=%v remaining=%d, want allowed with %d left", i+1, d.Allowed, d.Remaining, 9-i)
		}
	}
	d := l.Allow("203.0.113.1", "trace", 1)
	if d.Allowed || d.RetryAfter < 5*time.Second || d.RetryAfter > 6*time.Second {
		t.Fatalf("11th request: allowed=%v retry after %v, want refused with ~6s (one token per 6s)", d.Allowed, d.RetryAfter)
	}
	h := http.Header{}
	d.SetHeaders(h)
	for k, want := range map[string]string{
		"RateLimit-Policy": `"trace";q=10;w=60`, "RateLimit": `"trace";r=0;t=60`,
		"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60", "Retry-After": "6",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	// Another client and another class have their own buckets.
	if !l.Allow("203.0.113.2", "trace", 1).Allowed || !l.Allow("203.0.113.1", "dns", 1).Allowed {
		t.Error("a different client or class was refused")
	}
	// Tokens come back with time.
	c.advance(6 * time.Second)
	if !l.Allow("203.0.113.1", "trace", 1).Allowed {
		t.Error("refused after one refill interval")
	}
	// API keys scale the quota.
	for i := range 100 {
		if !l.Allow("key:abc", "trace", 10).Allowed {
			t.Fatalf("key holder refused at request %d of 100", i+1)
		}
	}
}

func TestIdleBucketsAreForgotten(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	l := newLimiter(t, c)
	for i := range 50 {
		l.Allow(string(rune('a'+i)), "dns", 1)
	}
	c.advance(3 * time.Minute)
	l.Allow("fresh", "dns", 1)
	if n := l.Len(); n != 1 {
		t.Errorf("%d buckets after the idle ones expired, want 1", n)
	}
}

func TestBadPolicy(t *testing.T) {
	if _, err := New([]Policy{{Name: "x", Limit: 0, Window: time.Minute}}, Policy{Name: "d", Limit: 1, Window: time.Second}, nil); err == nil {
		t.Error("limit 0 accepted")
	}
}
