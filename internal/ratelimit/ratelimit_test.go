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
	c.advance(time.Second)
	d := l.Allow("203.0.113.1", "trace", 1)
	if d.Allowed || d.RetryAfter != 59*time.Second {
		t.Fatalf("11th request: allowed=%v retry after %v, want refused until the first leaves the window (59 s)", d.Allowed, d.RetryAfter)
	}
	h := http.Header{}
	d.SetHeaders(h)
	for k, want := range map[string]string{
		"RateLimit-Policy": `"trace";q=10;w=60`, "RateLimit": `"trace";r=0;t=59`,
		"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "59", "Retry-After": "59",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	// Another client and another class have their own buckets.
	if !l.Allow("203.0.113.2", "trace", 1).Allowed || !l.Allow("203.0.113.1", "dns", 1).Allowed {
		t.Error("a different client or class was refused")
	}
	// Requests leave the window a window after they were made.
	c.advance(58 * time.Second)
	if l.Allow("203.0.113.1", "trace", 1).Allowed {
		t.Error("allowed 59 s after ten requests")
	}
	c.advance(time.Second)
	if !l.Allow("203.0.113.1", "trace", 1).Allowed {
		t.Error("refused a full window after the first request")
	}
	// API keys scale the quota.
	for i := range 100 {
		if !l.Allow("key:abc", "trace", 10).Allowed {
			t.Fatalf("key holder refused at request %d of 100", i+1)
		}
	}
}

// TestNoMoreThanTheLimitInAnyWindow is issue 12's case: "10/min" let 19
// through in 60 s (a full bucket plus its refill). Requests every second
// for three minutes: no 60 s span holds more than 10 allowed.
func TestNoMoreThanTheLimitInAnyWindow(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	l := newLimiter(t, c)
	var allowed []time.Time
	for range 180 {
		if l.Allow("198.51.100.7", "trace", 1).Allowed {
			allowed = append(allowed, c.now())
		}
		c.advance(time.Second)
	}
	for i := range allowed {
		n := 0
		for _, a := range allowed[i:] {
			if a.Sub(allowed[i]) < time.Minute {
				n++
			}
		}
		if n > 10 {
			t.Fatalf("%d requests allowed in the 60 s from %s, want at most 10", n, allowed[i].Format(time.TimeOnly))
		}
	}
	if len(allowed) != 30 {
		t.Errorf("%d allowed in 3 minutes, want 30 (the whole quota of each minute)", len(allowed))
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
