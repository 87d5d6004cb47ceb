package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SharedBucket is the JetStream key-value bucket several servers count in.
const SharedBucket = "dnsscience_ratelimits"

// Shared counts requests in a JetStream key-value bucket that several
// servers share, so a client's quota holds across all of them. Each
// (client, class) key holds two fixed windows (the current one and the
// one before), and a request is allowed while the previous window's count,
// weighted by how much of it still overlaps the sliding window, plus the
// current count stays under the limit: one small value per client and
// class, updated with compare-and-set. When the bucket cannot be reached
// it falls back to the process's own Limiter (each server counting alone)
// rather than refusing everyone.
type Shared struct {
	local *Limiter
	kv    jetstream.KeyValue
	// Timeout bounds one decision's round trips; 0 means 2 s.
	Timeout time.Duration
	// Log receives fallbacks to the local limiter (at most one a minute);
	// nil discards them.
	Log *slog.Logger

	lastLog atomic.Int64 // unix ns of the last fallback logged
}

// NewShared opens (creating it when missing) the shared bucket on js,
// whose entries live twice the longest window of l's policies, in memory.
func NewShared(ctx context.Context, js jetstream.JetStream, l *Limiter) (*Shared, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: SharedBucket, History: 1,
		TTL: 2 * l.maxWindow(), Storage: jetstream.MemoryStorage, Description: "dnsscience rate limits per client and class"})
	if err != nil {
		return nil, fmt.Errorf("opening the shared rate-limit bucket: %w", err)
	}
	return &Shared{local: l, kv: kv}, nil
}

// PolicyFor returns the policy of a class.
func (s *Shared) PolicyFor(class string) Policy { return s.local.PolicyFor(class) }

// Allow counts one request of client in class across every server sharing
// the bucket; scale (≥ 1) multiplies the quota.
func (s *Shared) Allow(client, class string, scale int) Decision {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d, err := s.allow(ctx, client, class, scale)
	if err != nil {
		if now := time.Now().UnixNano(); s.Log != nil && now-s.lastLog.Load() > int64(time.Minute) {
			s.lastLog.Store(now)
			s.Log.Warn("shared rate limits unavailable; counting in this server alone", "err", err)
		}
		return s.local.Allow(client, class, scale)
	}
	return d
}

// sharedKey is the bucket key of a client's class: the client (an address
// or key id) hashed, so any text makes a valid key.
func sharedKey(client, class string, scale int) string {
	h := sha256.Sum256([]byte(client + "\x00" + strconv.Itoa(scale)))
	return class + "." + hex.EncodeToString(h[:16])
}

// windows is a key's value: the start of the current fixed window and the
// counts in it and the one before.
type windows struct {
	start     int64 // unix ms
	cur, prev int
}

func parseWindows(b []byte) (windows, bool) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return windows{}, false
	}
	start, e1 := strconv.ParseInt(f[0], 10, 64)
	cur, e2 := strconv.Atoi(f[1])
	prev, e3 := strconv.Atoi(f[2])
	return windows{start, cur, prev}, e1 == nil && e2 == nil && e3 == nil
}

func (w windows) bytes() []byte {
	return []byte(strconv.FormatInt(w.start, 10) + " " + strconv.Itoa(w.cur) + " " + strconv.Itoa(w.prev))
}

// at moves w to the fixed window holding now.
func (w windows) at(now time.Time, win time.Duration) windows {
	start := now.UnixMilli() - now.UnixMilli()%win.Milliseconds()
	switch start {
	case w.start:
		return w
	case w.start + win.Milliseconds():
		return windows{start: start, prev: w.cur}
	}
	return windows{start: start}
}

func (s *Shared) allow(ctx context.Context, client, class string, scale int) (Decision, error) {
	p := s.local.PolicyFor(class)
	if scale > 1 {
		p.Limit *= scale
	}
	key := sharedKey(client, class, scale)
	for attempt := range 64 {
		if attempt > 0 {
			// Another server counted meanwhile: wait a jittered moment
			// (contenders spread out) and read again.
			select {
			case <-time.After(rand.N(time.Duration(min(attempt, 8)) * time.Millisecond)):
			case <-ctx.Done():
				return Decision{}, ctx.Err()
			}
		}
		now := s.local.now()
		var w windows
		var rev uint64
		e, err := s.kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return Decision{}, err
		default:
			rev = e.Revision()
			w, _ = parseWindows(e.Value())
		}
		w = w.at(now, p.Window)
		d := decide(p, w, now)
		if !d.Allowed {
			return d, nil
		}
		w.cur++
		if rev == 0 {
			_, err = s.kv.Create(ctx, key, w.bytes())
		} else {
			_, err = s.kv.Update(ctx, key, w.bytes(), rev)
		}
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return Decision{}, err
		}
	}
	return Decision{}, errors.New("too much contention on the shared rate-limit bucket")
}

// decide weighs w at now against p; when allowed, Remaining counts the
// request being allowed.
func decide(p Policy, w windows, now time.Time) Decision {
	win := float64(p.Window.Milliseconds())
	into := float64(now.UnixMilli() - w.start)
	weight := 1 - into/win
	used := float64(w.prev)*weight + float64(w.cur)
	d := Decision{Policy: p, Allowed: used+1 <= float64(p.Limit)+1e-9}
	after := used
	if d.Allowed {
		after++
	}
	d.Remaining = max(0, p.Limit-int(math.Ceil(after-1e-9)))
	end := time.UnixMilli(w.start).Add(p.Window)
	switch {
	case w.cur > 0 || d.Allowed:
		d.Reset = end.Add(p.Window).Sub(now)
	case w.prev > 0:
		d.Reset = end.Sub(now)
	}
	if !d.Allowed {
		if w.cur+1 <= p.Limit {
			// The previous window's share must fade: prev*(1-t/win) ≤ limit-cur-1.
			t := win * (1 - float64(p.Limit-w.cur-1)/float64(w.prev))
			d.RetryAfter = time.Duration(t-into)*time.Millisecond + time.Millisecond
		} else {
			// Next window: cur fades the same way.
			t := win * (1 - float64(p.Limit-1)/float64(w.cur))
			d.RetryAfter = end.Sub(now) + time.Duration(t)*time.Millisecond + time.Millisecond
		}
	}
	return d
}
