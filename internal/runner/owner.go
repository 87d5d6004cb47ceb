package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// DefaultServerID names a service whose Config gives none: one server
// alone on its store.
const DefaultServerID = "local"

// reasonLostForm is the error of a measurement whose server stopped
// renewing its lease: %s is the server id, %s when its lease ended.
const reasonLostForm = "interrupted: server %s stopped (killed, crashed or cut off from the store; its lease ended %s) before the measurement ended"

// owner is this process's claim on its server id: the lease it renews,
// and the sweep that fails the measurements of servers whose lease ended.
type owner struct {
	id, instance string
	lease        time.Duration
	store        *store.Store
	now          func() time.Time
	after        func(time.Duration) <-chan time.Time
	log          interface {
		Warn(string, ...any)
		Error(string, ...any)
	}
	done chan struct{}
}

func newInstance() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// claim takes the server id and fails what it left unfinished (no
// measurement runs in this process yet) and what servers whose lease
// ended left.
func (o *owner) claim(ctx context.Context) error {
	now := o.now()
	prev, err := o.store.ClaimServer(ctx, o.id, o.instance, now, now.Add(o.lease))
	if err != nil {
		return err
	}
	if prev != nil {
		o.log.Warn("server id was held by another process whose lease had not ended: its predecessor killed moments ago, or another server configured with the same id (give each its own server_id)",
			"server_id", o.id, "lease_until", prev.LeaseUntil)
	}
	n, err := o.store.FailOwned(ctx, o.id, ReasonCrashed)
	if err != nil {
		return err
	}
	if n > 0 {
		o.log.Warn("failed measurements left unfinished by the previous process", "server_id", o.id, "count", n)
	}
	o.sweep(ctx, now)
	return nil
}

// sweep fails the unfinished measurements of servers whose lease ended.
func (o *owner) sweep(ctx context.Context, now time.Time) {
	n, err := o.store.FailOrphaned(ctx, now, func(id string, until time.Time) string {
		when := "long ago"
		if !until.IsZero() {
			when = "at " + until.Format(time.RFC3339)
		}
		return fmt.Sprintf(reasonLostForm, id, when)
	})
	if err != nil {
		o.log.Warn("failing measurements of lost servers", "err", err)
	}
	if n > 0 {
		o.log.Warn("failed measurements of servers whose lease ended", "count", n)
	}
}

// run renews the lease three times per lease and sweeps, until ctx ends;
// then it releases the lease.
func (o *owner) run(ctx context.Context) {
	defer close(o.done)
	for {
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := o.store.ReleaseServer(rctx, o.id, o.instance); err != nil {
				o.log.Warn("releasing the server lease", "err", err)
			}
			cancel()
			return
		case <-o.after(o.lease / 3):
		}
		now := o.now()
		wctx, cancel := context.WithTimeout(ctx, o.lease/3)
		err := o.store.RenewServer(wctx, o.id, o.instance, now.Add(o.lease))
		if errors.Is(err, store.ErrLeaseLost) {
			o.log.Error("another process took this server's id: its measurements may be failed by it; give each server its own server_id", "server_id", o.id)
		} else if err != nil {
			o.log.Warn("renewing the server lease", "err", err)
		}
		o.sweep(wctx, now)
		cancel()
	}
}
