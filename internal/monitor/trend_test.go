package monitor

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/store/storetest"
)

const trendSuite = `checks:
  - {name: a, kind: dns, target: example.com, interval: 1m}
  - {name: b, kind: dns, target: example.com, interval: 1m}
`

// newTrendMonitor builds a monitor on st and clock watching trendSuite's
// two checks, restored from st.
func newTrendMonitor(t *testing.T, st Store, clock Clock) *Monitor {
	t.Helper()
	s, err := check.Parse("trend.yaml", []byte(trendSuite), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Store: st, Clock: clock})
	if err := m.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.SetChecks("trend.yaml", "trend", s.Checks); err != nil {
		t.Fatal(err)
	}
	return m
}

// recordRun records a run of id started at at, as a run does.
func recordRun(t *testing.T, m *Monitor, id string, at time.Time, outcome string, d time.Duration) {
	t.Helper()
	w := m.lookup(id)
	if w == nil {
		t.Fatalf("no check %s", id)
	}
	res := check.Result{Pass: outcome != OutcomeFail, Duration: d}
	if outcome == OutcomeWarn {
		res.Warned = []check.Failure{{Condition: "rtt < 5ms", Actual: "rtt=10ms"}}
	}
	m.record(w, w.c, Job{ID: id, Scheduled: at, Started: at}, res)
}

// trendsOf shows the checks' trends as "spark i:v ... | days i:v ...",
// the slots with runs only, and fails unless every trend has 60 and 90.
func trendsOf(t *testing.T, m *Monitor, ids ...string) []string {
	t.Helper()
	var out []string
	for i, tr := range m.Trends(ids) {
		if len(tr.Spark) != SparkMinutes || len(tr.UptimeDays) != UptimeDays {
			t.Fatalf("%s: %d minutes and %d days; want 60 and 90", ids[i], len(tr.Spark), len(tr.UptimeDays))
		}
		out = append(out, "spark"+slots(tr.Spark)+" | days"+slots(tr.UptimeDays))
	}
	return out
}

func slots(vs Values) string {
	var b strings.Builder
	for i, v := range vs {
		if !math.IsNaN(v) {
			fmt.Fprintf(&b, " %d:%.4g", i, v)
		}
	}
	return b.String()
}

func wantTrends(t *testing.T, when string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: trends\n%s\nwant\n%s", when, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTrends records runs across minutes and days on a fake clock and
// reads the list's trends from memory: mean duration per minute, share
// passed per day (warned runs pass), null without runs, values rolling out
// of the windows as the clock moves; a new monitor on the same store
// restores them after a flush (a restart), and a reload keeps them.
func TestTrends(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, u string) {
		now := time.Date(2026, 12, 1, 23, 58, 10, 0, time.UTC)
		clock := NewFakeClock(now)
		m := newTrendMonitor(t, storetest.Open(t, u), clock)
		ms := time.Millisecond
		for _, r := range []struct {
			at      time.Time
			outcome string
			d       time.Duration
		}{
			{now.Add(-2 * time.Minute), OutcomeOK, 10 * ms}, {now.Add(-2*time.Minute + time.Second), OutcomeOK, 20 * ms},
			{now, OutcomeOK, 30 * ms}, {now, OutcomeFail, 50 * ms}, {now.Add(time.Second), OutcomeWarn, 10 * ms},
			{now.Add(-59 * time.Minute), OutcomeOK, 8 * ms},  // the sparkline's first minute
			{now.Add(-61 * time.Minute), OutcomeOK, 99 * ms}, // before it, but today
			{now.AddDate(0, 0, -89), OutcomeOK, 4 * ms},      // the first of the 90 days
			{now.AddDate(0, 0, -90), OutcomeFail, 4 * ms},    // before them: today's slot keeps today's
		} {
			recordRun(t, m, "a", r.at, r.outcome, r.d)
		}
		want := []string{"spark 0:8 57:15 59:30 | days 0:1 89:0.8571", "spark | days", "spark | days"}
		wantTrends(t, "recorded", trendsOf(t, m, "a", "b", "gone"), want...)
		if err := m.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}

		restarted := newTrendMonitor(t, storetest.Open(t, u), clock)
		wantTrends(t, "after a restart", trendsOf(t, restarted, "a", "b", "gone"), want...)
		s, err := check.Parse("trend.yaml", []byte(trendSuite), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := restarted.SetChecks("trend.yaml", "trend", s.Checks); err != nil {
			t.Fatal(err)
		}
		wantTrends(t, "after a reload", trendsOf(t, restarted, "a"), want[0])

		clock.Advance(2 * time.Minute) // 00:00:10 the next day
		recordRun(t, restarted, "a", clock.Now(), OutcomeFail, 40*ms)
		recordRun(t, restarted, "b", clock.Now(), OutcomeOK, 2*ms)
		wantTrends(t, "the next day", trendsOf(t, restarted, "a", "b"),
			"spark 55:15 57:30 59:40 | days 88:0.8571 89:0", "spark 59:2 | days 89:1")

		clock.Advance(89 * 24 * time.Hour)
		wantTrends(t, "89 days later", trendsOf(t, restarted, "a"), "spark | days 0:0")
		clock.Advance(24 * time.Hour)
		wantTrends(t, "90 days later", trendsOf(t, restarted, "a"), "spark | days")
	})
}
