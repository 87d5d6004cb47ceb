package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// Clock is the watcher's time (monitor.Real and monitor.FakeClock fit).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RecordsChanged is a domain's records changing between two scheduled snapshots:
// the event a change alert is made from (Watcher.OnChange).
type RecordsChanged struct {
	Domain   string    `json:"domain"`
	Previous *Snapshot `json:"previous"`
	Current  *Snapshot `json:"current"`
	Diff     *Diff     `json:"diff"`
}

// Watcher takes a snapshot of each domain every Every, stores it, compares
// it with the domain's previous stored snapshot and calls OnChange when
// they differ (SOA serial and TTL noise left out, as Compare does).
type Watcher struct {
	Store   *store.Store
	Domains []string
	// Taker returns the taker for a domain (its servers, names, client
	// with the target policy); nil means the zero Taker.
	Taker func(domain string) *Taker
	// Every is the interval; 0 means one hour.
	Every time.Duration
	Clock Clock
	// OnChange is called for each change found; nil means none (the
	// snapshots are still stored).
	OnChange func(ctx context.Context, c RecordsChanged)
	Log      *slog.Logger
}

// Check takes one snapshot of domain now, stores it and returns the
// change from the previous one (nil when there was none before, or the
// records are the same).
func (w *Watcher) Check(ctx context.Context, domain string) (*RecordsChanged, error) {
	tk := &Taker{}
	if w.Taker != nil {
		tk = w.Taker(domain)
	}
	if w.Clock != nil && tk.Now == nil {
		tk.Now = w.Clock.Now
	}
	cur, err := tk.Take(ctx, domain)
	if err != nil {
		return nil, fmt.Errorf("scheduled snapshot of %s: %w", domain, err)
	}
	prev, err := Latest(ctx, w.Store, cur.Domain)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := Save(ctx, w.Store, cur, "schedule", ""); err != nil {
		return nil, err
	}
	if prev == nil {
		return nil, nil
	}
	d, err := Compare(prev, cur, DiffOptions{})
	if err != nil || d.Equal {
		return nil, err
	}
	c := &RecordsChanged{Domain: cur.Domain, Previous: prev, Current: cur, Diff: d}
	if w.OnChange != nil {
		w.OnChange(ctx, *c)
	}
	return c, nil
}

// Run checks every domain at once and then every Every until ctx ends;
// a failed check is logged and tried again at the next turn.
func (w *Watcher) Run(ctx context.Context) error {
	every := w.Every
	if every <= 0 {
		every = time.Hour
	}
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		for _, d := range w.Domains {
			if c, err := w.Check(ctx, d); err != nil {
				log.Warn("snapshot failed", "domain", d, "err", err)
			} else if c != nil {
				log.Info("records changed", "domain", c.Domain, "added", c.Diff.Added, "removed", c.Diff.Removed, "changed", c.Diff.Changed)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.Clock.After(every):
		}
	}
}
