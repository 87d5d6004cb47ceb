package cli

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/monitor"
)

// runWatch runs the suites' checks continuously on the monitor's scheduler
// (each at its interval, with its thresholds) and prints each state change
// until ctx ends. Nothing is stored.
func runWatch(ctx context.Context, e *env, suites []*check.Suite, runner *check.Runner) error {
	var mu sync.Mutex
	m := monitor.New(monitor.Config{Runner: runner, Log: e.log, OnTransition: func(ev monitor.Event) {
		mu.Lock()
		defer mu.Unlock()
		line := fmt.Sprintf("%s  %-8s → %-11s  %s  (%s)", ev.At.Format(time.RFC3339), ev.From, ev.To, ev.Name, ev.Reason)
		if ev.Error != "" && (ev.To == monitor.StatusDown || ev.To == monitor.StatusDegraded) {
			line += ": " + ev.Error
		}
		fmt.Fprintln(e.stdout, line)
	}})
	n := 0
	for _, s := range suites {
		name := s.Name
		if name == "" {
			name = s.File
		}
		if err := m.SetChecks(s.File, name, s.Checks); err != nil {
			return usageErr("%v", err)
		}
		n += len(s.Checks)
	}
	fmt.Fprintf(e.stdout, "watching %d checks; state changes follow (Ctrl-C stops)\n", n)
	m.Start(ctx)
	return nil
}
