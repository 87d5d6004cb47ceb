// Package ratelimit holds sliding windows per client and per class of
// request (trace, dns ...): "10 per minute" means at most 10 in any 60
// seconds. It renders their state as the RateLimit
// headers of draft-ietf-httpapi-ratelimit-headers and the common
// X-RateLimit-* headers.
package ratelimit

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Policy is a quota: at most Limit requests in any Window.
type Policy struct {
	Name   string        // class name, e.g. "trace"
	Limit  int           // requests per window
	Window time.Duration // e.g. time.Minute
}

// Limiter keeps one bucket per (client, class). The zero value is not
// usable; build it with New.
type Limiter struct {
	policies map[string]Policy
	fallback Policy
	// now is the clock; tests inject one.
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt time.Time
}

// bucket holds the times of the requests allowed within the last window,
// oldest first, in a ring that grows to the limit.
type bucket struct {
	times []time.Time
	head  int // index of the oldest
	n     int // how many are held
	seen  time.Time
}

// expire forgets the times at or before cutoff.
func (b *bucket) expire(cutoff time.Time) {
	for b.n > 0 && !b.times[b.head].After(cutoff) {
		b.head = (b.head + 1) % len(b.times)
		b.n--
	}
}

func (b *bucket) oldest() time.Time { return b.times[b.head] }
func (b *bucket) newest() time.Time { return b.times[(b.head+b.n-1)%len(b.times)] }

// push records t; the ring has room (n < limit).
func (b *bucket) push(t time.Time, limit int) {
	if b.n == len(b.times) && len(b.times) < limit {
		// Grow, unrolling the ring so the oldest is first.
		grown := make([]time.Time, min(limit, max(4, 2*len(b.times))))
		for i := range b.n {
			grown[i] = b.times[(b.head+i)%len(b.times)]
		}
		b.times, b.head = grown, 0
	}
	b.times[(b.head+b.n)%len(b.times)] = t
	b.n++
}

// Decision is the outcome of one request against its bucket.
type Decision struct {
	Policy     Policy
	Allowed    bool
	Remaining  int           // requests left now
	Reset      time.Duration // until the whole quota is available again
	RetryAfter time.Duration // until the next request is allowed (when refused)
}

// New builds a limiter from per-class policies; classes without one use
// fallback. now may be nil (time.Now).
func New(policies []Policy, fallback Policy, now func() time.Time) (*Limiter, error) {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{policies: map[string]Policy{}, fallback: fallback, now: now, buckets: map[string]*bucket{}}
	for _, p := range append(policies, fallback) {
		if p.Limit < 1 || p.Window <= 0 {
			return nil, fmt.Errorf("rate limit %q: want a limit of at least 1 per positive window, got %d per %s", p.Name, p.Limit, p.Window)
		}
		l.policies[p.Name] = p
	}
	return l, nil
}

// PolicyFor returns the policy of a class.
func (l *Limiter) PolicyFor(class string) Policy {
	if p, ok := l.policies[class]; ok {
		return p
	}
	return l.fallback
}

// Allow takes one token from the bucket of client for class; scale (≥ 1)
// multiplies the quota, e.g. for API key holders.
func (l *Limiter) Allow(client, class string, scale int) Decision {
	p := l.PolicyFor(class)
	if scale > 1 {
		p.Limit *= scale
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	key := class + "\x00" + client + "\x00" + strconv.Itoa(scale)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{}
		l.buckets[key] = b
	}
	b.seen = now
	b.expire(now.Add(-p.Window))
	d := Decision{Policy: p, Allowed: b.n < p.Limit}
	if d.Allowed {
		b.push(now, p.Limit)
	} else {
		d.RetryAfter = b.oldest().Add(p.Window).Sub(now)
	}
	d.Remaining = p.Limit - b.n
	if b.n > 0 {
		d.Reset = b.newest().Add(p.Window).Sub(now)
	}
	return d
}

// sweep forgets buckets idle for a whole window (empty again), at most once a
// minute, so memory follows the number of active clients.
func (l *Limiter) sweep(now time.Time) {
	if now.Before(l.sweepAt) {
		return
	}
	l.sweepAt = now.Add(time.Minute)
	for k, b := range l.buckets {
		if now.Sub(b.seen) > l.maxWindow() {
			delete(l.buckets, k)
		}
	}
}

func (l *Limiter) maxWindow() time.Duration {
	m := l.fallback.Window
	for _, p := range l.policies {
		m = max(m, p.Window)
	}
	return m
}

// Len reports how many buckets are held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// SetHeaders writes the decision as RateLimit-Policy and RateLimit (IETF
// draft), X-RateLimit-Limit/-Remaining/-Reset (seconds until full), and
// Retry-After when refused.
//
// It runs on every limited answer, so the keys are given in canonical form
// (what h.Set would make of them) and the values built without fmt.
func (d Decision) SetHeaders(h http.Header) {
	name := strconv.Quote(d.Policy.Name)
	limit, remaining := strconv.Itoa(d.Policy.Limit), strconv.Itoa(d.Remaining)
	reset := strconv.Itoa(ceilSeconds(d.Reset))
	h["Ratelimit-Policy"] = []string{name + ";q=" + limit + ";w=" + strconv.Itoa(int(d.Policy.Window.Seconds()))}
	h["Ratelimit"] = []string{name + ";r=" + remaining + ";t=" + reset}
	h["X-Ratelimit-Limit"] = []string{limit}
	h["X-Ratelimit-Remaining"] = []string{remaining}
	h["X-Ratelimit-Reset"] = []string{reset}
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(max(1, ceilSeconds(d.RetryAfter))))
	}
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }
