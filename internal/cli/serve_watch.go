package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/dnsscience/dnsscience/internal/config"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/snapshot"
	"github.com/dnsscience/dnsscience/internal/store"
)

// startWatch snapshots o.WatchDomains every o.WatchEvery until ctx ends
// (serve's watch_domains): each snapshot is stored, each change logged as
// "records changed" — the snapshot.Watcher's OnChange is where a change
// alert plugs in. The name servers asked are targets: the policy applies.
func startWatch(ctx context.Context, o *config.Server, st *store.Store, policy *netpolicy.Policy, log *slog.Logger) {
	if len(o.WatchDomains) == 0 {
		return
	}
	w := &snapshot.Watcher{Store: st, Domains: o.WatchDomains, Every: o.WatchEvery, Clock: monitor.Real(), Log: log,
		Taker: func(string) *snapshot.Taker {
			return &snapshot.Taker{Resolvers: o.Upstream, Client: &dnsq.Client{Timeout: 3 * time.Second, Tries: 2, Dialer: policy.Dialer()},
				ResolverClient: &dnsq.Client{Timeout: 3 * time.Second, Tries: 2}}
		},
		OnChange: func(_ context.Context, c snapshot.RecordsChanged) {
			log.Warn("records changed", "domain", c.Domain, "from", c.Previous.ID, "to", c.Current.ID,
				"added", c.Diff.Added, "removed", c.Diff.Removed, "changed", c.Diff.Changed)
		}}
	go func() { _ = w.Run(ctx) }()
}
