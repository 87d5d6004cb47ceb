package cli

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/spf13/pflag"

	"github.com/dnsscience/dnsscience/internal/alert"
	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/store"
)

// monitorFlags are serve's monitoring flags.
type monitorFlags struct {
	checks string
	loader *monitor.Loader
	// alerts delivers the checks' notifications (docs/ALERTS.md).
	alerts *alert.Service
}

func registerMonitorFlags(f *pflag.FlagSet) *monitorFlags {
	mf := &monitorFlags{}
	f.StringVar(&mf.checks, "checks", "", "watch the checks of this suite file or directory of suites (*.yaml) continuously; edits are reloaded")
	return mf
}

// open builds the monitor: state restored from the store, the checks made
// through the API read from it, and with --checks every suite file loaded
// (an invalid one stops the start; later, a bad edit keeps the previous
// checks). Without --checks the monitor watches the API's checks only.
// Alerts go through the server's target policy.
func (mf *monitorFlags) open(ctx context.Context, log *slog.Logger, st *store.Store, policy *netpolicy.Policy) (*monitor.Monitor, error) {
	if mf == nil {
		return nil, nil
	}
	mf.alerts = alert.NewService(st, &alert.Env{Policy: policy}, &alert.Worker{Log: log})
	m := monitor.New(monitor.Config{Store: st, Log: log, Notify: mf.alerts.Router.Notify})
	if err := m.Restore(ctx); err != nil {
		return nil, err
	}
	if err := m.SyncAPIChecks(ctx); err != nil {
		return nil, err
	}
	if mf.checks != "" {
		mf.loader = &monitor.Loader{Monitor: m, Path: mf.checks, OnSuite: mf.alerts.Suite, OnGone: mf.alerts.Remove}
		if err := mf.loader.Load(); err != nil {
			return nil, fmt.Errorf("--checks: %w", err)
		}
		log.Info("watching checks", "path", mf.checks, "checks", len(m.Checks()))
	}
	return m, nil
}

// start runs the monitor and the file watcher; the returned function stops
// them and waits until the last results are written.
func (mf *monitorFlags) start(ctx context.Context, m *monitor.Monitor) func() {
	if m == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); m.Start(ctx) }()
	go func() { defer wg.Done(); mf.alerts.Run(ctx) }()
	if mf.loader != nil {
		wg.Add(1)
		go func() { defer wg.Done(); mf.loader.Watch(ctx) }()
	}
	return func() { cancel(); wg.Wait() }
}
