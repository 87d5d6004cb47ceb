package monitor

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// BenchmarkRecordFlush is the monitor's own cost per run, without the
// measurement: state, metrics sample, pending history and rollups, and its
// share of the write every 2 s (1,000 checks at 1 s: a flush after every
// second round, as in production), into SQLite. ns/op, allocs/op and
// cpu-µs/op (process CPU time, which other load does not inflate) are per
// run.
func BenchmarkRecordFlush(b *testing.B) {
	const n = 1000
	s := benchSuite(b, n, "1s")
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "m.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	m := New(Config{Store: st})
	if err := m.SetChecks("bench.yaml", "bench", s.Checks); err != nil {
		b.Fatal(err)
	}
	ws := make([]*watched, n)
	for i, c := range s.Checks {
		ws[i] = m.lookup(c.ID())
	}
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	res := check.Result{Pass: true, Duration: 1500 * time.Microsecond}
	i := 0
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		w := ws[i%n]
		t := at.Add(time.Duration(i/n) * time.Second)
		m.record(w, w.c, Job{ID: w.id, Scheduled: t, Started: t.Add(time.Millisecond)}, res)
		i++
		if i%(2*n) == 0 {
			if err := m.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(i), "cpu-µs/op")
}

// BenchmarkTrends is the cost of the check list's trends (GET
// /api/v1/checks): every minute of the sparkline and every day of the
// uptime bars of 5,000 checks have runs; one op builds all of them, from
// memory. cpu-µs/op is the process CPU time of one op.
func BenchmarkTrends(b *testing.B) {
	const n = 5000
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	m, s := benchMonitor(b, n, "1m", now)
	ids := make([]string, n)
	for i, c := range s.Checks {
		ids[i] = c.ID()
		w := m.lookup(ids[i])
		for j := range UptimeDays {
			w.trends.observe(now.AddDate(0, 0, -j), OutcomeFail, time.Millisecond)
		}
		for j := range SparkMinutes {
			w.trends.observe(now.Add(-time.Duration(j)*time.Minute), OutcomeOK, time.Duration(j+1)*time.Millisecond)
		}
	}
	if tr := m.Trends(ids[:1])[0]; math.IsNaN(tr.Spark[0]) || math.IsNaN(tr.UptimeDays[0]) {
		b.Fatal("the first minute or day has no runs")
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		m.Trends(ids)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime is the process's CPU time (user and system): unlike ns/op it
// does not grow when other processes share the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSuite is a suite of n DNS checks run every interval.
func benchSuite(b *testing.B, n int, interval string) *check.Suite {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("checks:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - {name: c%d, kind: dns, target: example.com, interval: %s}\n", i, interval)
	}
	s, err := check.Parse("bench.yaml", []byte(sb.String()), nil)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkScrape is one /metrics scrape of 5,000 checks that have run
// (HTTP checks: state, success, duration, DNS time, status, four phases,
// uptime): gather and encode as text, as promhttp does.
func BenchmarkScrape(b *testing.B) {
	const n = 5000
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	m, s := benchMonitor(b, n, "1s", at)
	for _, c := range s.Checks {
		w := m.lookup(c.ID())
		w.sample = sample{at: at, success: true, duration: time.Millisecond, dnsTime: time.Millisecond, hasDNS: true, httpStatus: 200,
			phases: map[string]time.Duration{"resolve": 1, "connect": 2, "tls": 3, "processing": 4}}
		w.trends.observe(at, OutcomeOK, time.Millisecond)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collector())
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// benchMonitor watches n DNS checks run every interval, on a fake clock at
// now, without a store.
func benchMonitor(b *testing.B, n int, interval string, now time.Time) (*Monitor, *check.Suite) {
	b.Helper()
	s := benchSuite(b, n, interval)
	m := New(Config{Clock: NewFakeClock(now)})
	if err := m.SetChecks("bench.yaml", "bench", s.Checks); err != nil {
		b.Fatal(err)
	}
	return m, s
}
