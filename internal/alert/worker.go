package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/store"
)

// Outbox is where the worker finds notifications (*store.Store).
type Outbox interface {
	ClaimNotifications(ctx context.Context, now time.Time, lease time.Duration, owner string, limit int) ([]store.Notification, error)
	FinishNotification(ctx context.Context, seq int64, owner string, u store.NotificationUpdate) error
	Silences(ctx context.Context, at time.Time) ([]store.Silence, error)
	PruneNotifications(ctx context.Context, before time.Time) (int64, error)
}

// Worker delivers the outbox's notifications.
type Worker struct {
	Store Outbox
	// Clock is the time; nil means the wall clock.
	Clock monitor.Clock
	Log   *slog.Logger
	// Owner names this worker in leases; empty means a random name.
	Owner string
	// Lease is how long a claimed notification is this worker's; 0 means 1m.
	Lease time.Duration
	// Poll is how often the outbox is looked at; 0 means 1 s.
	Poll time.Duration
	// Batch is the most notifications claimed at once; 0 means 32.
	Batch int
	// MaxAttempts and MaxAge: a notification that failed this often, or
	// this long after it was made, becomes a dead letter; 0 means 12 and 24h.
	MaxAttempts int
	MaxAge      time.Duration
	// Backoff is the first retry delay, doubled each attempt up to
	// MaxBackoff, with ±20 % jitter; 0 means 5 s and 10 m.
	Backoff, MaxBackoff time.Duration
	// Jitter returns a number in [0, 1); nil means math/rand.
	Jitter func() float64
	// Retention is how long delivered and silenced notifications are
	// kept (pending ones and dead letters stay); 0 means 30 days.
	Retention time.Duration

	mu      sync.RWMutex
	senders map[string]Sender
	kick    chan struct{}
	once    sync.Once
}

func (w *Worker) init() {
	w.once.Do(func() {
		if w.Clock == nil {
			w.Clock = monitor.Real()
		}
		if w.Log == nil {
			w.Log = slog.New(slog.DiscardHandler)
		}
		if w.Owner == "" {
			b := make([]byte, 8)
			rand.Read(b)
			w.Owner = hex.EncodeToString(b)
		}
		defaults := []struct {
			p *time.Duration
			d time.Duration
		}{{&w.Lease, time.Minute}, {&w.Poll, time.Second}, {&w.MaxAge, 24 * time.Hour}, {&w.Backoff, 5 * time.Second}, {&w.MaxBackoff, 10 * time.Minute}, {&w.Retention, 30 * 24 * time.Hour}}
		for _, d := range defaults {
			if *d.p <= 0 {
				*d.p = d.d
			}
		}
		if w.Batch <= 0 {
			w.Batch = 32
		}
		if w.MaxAttempts <= 0 {
			w.MaxAttempts = 12
		}
		if w.Jitter == nil {
			w.Jitter = mrand.Float64
		}
		w.kick = make(chan struct{}, 1)
	})
}

// SetSenders sets the senders by channel name (at start and on reload).
func (w *Worker) SetSenders(s map[string]Sender) {
	w.mu.Lock()
	w.senders = s
	w.mu.Unlock()
}

func (w *Worker) sender(name string) Sender {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.senders[name]
}

// Kick makes the worker look at the outbox now.
func (w *Worker) Kick() {
	w.init()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	w.init()
	var pruned time.Time
	for {
		if now := w.Clock.Now(); now.Sub(pruned) >= time.Hour {
			pruned = now
			if _, err := w.Store.PruneNotifications(ctx, now.Add(-w.Retention)); err != nil && ctx.Err() == nil {
				w.Log.Warn("pruning notifications", "err", err)
			}
		}
		for {
			n, err := w.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				w.Log.Warn("delivering notifications", "err", err)
			}
			if n < w.Batch || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-w.Clock.After(w.Poll):
		}
	}
}

// DeliverDue claims the notifications due now, delivers them (each
// check's in order, different checks at once) and records the outcomes;
// it returns how many it claimed.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	w.init()
	now := w.Clock.Now()
	notes, err := w.Store.ClaimNotifications(ctx, now, w.Lease, w.Owner, w.Batch)
	if err != nil || len(notes) == 0 {
		return 0, err
	}
	silences, err := w.Store.Silences(ctx, now)
	if err != nil {
		w.Log.Warn("reading silences; delivering regardless", "err", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, n := range notes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.deliver(ctx, n, silences); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(notes), errors.Join(errs...)
}

// deliver sends one notification and records the outcome.
func (w *Worker) deliver(ctx context.Context, n store.Notification, silences []store.Silence) error {
	now := w.Clock.Now()
	u := store.NotificationUpdate{Attempts: n.Attempts, NextAttempt: n.NextAttempt, LastError: n.LastError}
	silenced := false
	for _, s := range silences {
		if s.Matches(n.CheckID, n.Channel, now) {
			silenced = true
		}
	}
	switch {
	case silenced:
		u.Status = store.NoteSilenced
	default:
		err := w.send(ctx, n)
		if ctx.Err() != nil {
			return nil // shutting down: the lease runs out and the row is retried
		}
		u.Attempts++
		now = w.Clock.Now()
		if err == nil {
			u.Status, u.DeliveredAt = store.NoteDelivered, now
			w.Log.Info("notification delivered", "check", n.CheckID, "channel", n.Channel, "event", n.Event, "key", n.Key, "attempts", u.Attempts)
			break
		}
		u.LastError = err.Error()
		var de *DeliveryError
		permanent := errors.As(err, &de) && de.Permanent
		u.Status, u.NextAttempt = store.NotePending, now.Add(w.backoff(u.Attempts))
		if errors.As(err, &de) && de.RetryAfter > 0 {
			u.NextAttempt = now.Add(min(de.RetryAfter, time.Hour))
		}
		if permanent || u.Attempts >= w.MaxAttempts || u.NextAttempt.Sub(n.CreatedAt) > w.MaxAge {
			u.Status = store.NoteDead
			w.Log.Error("notification undeliverable: kept as a dead letter", "check", n.CheckID, "channel", n.Channel, "event", n.Event,
				"attempts", u.Attempts, "err", u.LastError)
		} else {
			w.Log.Warn("notification not delivered; retrying", "check", n.CheckID, "channel", n.Channel, "attempts", u.Attempts,
				"retry_at", u.NextAttempt, "err", u.LastError)
		}
	}
	if err := w.Store.FinishNotification(context.WithoutCancel(ctx), n.Seq, w.Owner, u); err != nil {
		return err
	}
	return nil
}

func (w *Worker) send(ctx context.Context, n store.Notification) error {
	s := w.sender(n.Channel)
	if s == nil {
		return fmt.Errorf("channel %q is not configured (any more)", n.Channel)
	}
	var m Message
	if err := json.Unmarshal(n.Payload, &m); err != nil {
		return &DeliveryError{Permanent: true, Err: fmt.Errorf("reading the stored message: %w", err)}
	}
	m.Key = n.Key
	return s.Send(ctx, &m)
}

// backoff is the delay before attempt+1: Backoff·2^(attempt-1), at most
// MaxBackoff, ±20 % jitter.
func (w *Worker) backoff(attempt int) time.Duration {
	d := float64(w.Backoff) * math.Pow(2, float64(attempt-1))
	d = min(d, float64(w.MaxBackoff))
	return time.Duration(d * (0.8 + 0.4*w.Jitter()))
}
