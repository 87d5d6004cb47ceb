package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestMonitorSaveAndRead(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		st := CheckState{CheckID: "web", Location: "local", Status: "down", Health: "down", Fails: 3, Since: t0, LastRun: t0.Add(time.Minute),
			Last: json.RawMessage(`{"outcome":"fail"}`)}
		var results []CheckResult
		for i := range 250 { // more than one INSERT statement
			out := "ok"
			if i%5 == 0 {
				out = "fail"
			}
			results = append(results, CheckResult{CheckID: "web", Location: "local", At: t0.Add(time.Duration(i) * time.Second), Outcome: out,
				Duration: time.Duration(i) * time.Millisecond, Lag: time.Millisecond, Error: map[bool]string{true: "refused"}[out == "fail"],
				Evidence: map[bool]json.RawMessage{true: json.RawMessage(`[{"condition":"ok"}]`)}[out == "fail"]})
		}
		var a, b Rollup
		a.Observe("ok", 3*time.Millisecond)
		a.Observe("fail", 700*time.Millisecond)
		b.Observe("warn", time.Millisecond)
		a.CheckID, a.Location, a.Level, a.Bucket = "web", "local", LevelHour, t0
		b.CheckID, b.Location, b.Level, b.Bucket = "web", "local", LevelHour, t0
		batch := &MonitorBatch{States: []CheckState{st}, Results: results, Rollups: []Rollup{a},
			Transitions: []CheckTransition{{CheckID: "web", Location: "local", At: t0, From: "up", To: "down", Reason: "3 failures"}}}
		if err := s.SaveMonitor(ctx, batch); err != nil {
			t.Fatal(err)
		}
		st.Fails, st.Status = 4, "maintenance"
		if err := s.SaveMonitor(ctx, &MonitorBatch{States: []CheckState{st}, Rollups: []Rollup{b}}); err != nil {
			t.Fatal(err)
		}
		states, err := s.MonitorStates(ctx)
		if err != nil || len(states) != 1 || states[0].Fails != 4 || states[0].Status != "maintenance" || !states[0].Since.Equal(t0) || string(states[0].Last) != `{"outcome":"fail"}` {
			t.Fatalf("states = %+v, %v; want the second save's", states, err)
		}
		rs, err := s.MonitorRollups(ctx, "web", LevelHour, t0, t0.Add(time.Hour))
		if err != nil || len(rs) != 1 {
			t.Fatalf("rollups = %+v, %v", rs, err)
		}
		want := a
		want.Add(&b)
		if rs[0] != want {
			t.Errorf("rollup = %+v, want the sum %+v", rs[0], want)
		}
		if r := rs[0]; r.N != 3 || r.OK != 2 || r.Warn != 1 || r.Min != time.Millisecond || r.Max != 700*time.Millisecond || r.Buckets[0] != 1 || r.Buckets[2] != 1 || r.Buckets[9] != 1 {
			t.Errorf("rollup = %+v: want 3 runs, 2 ok, 1 warn, min 1ms, max 700ms, buckets 0, 2 and 9", r)
		}
		got, err := s.MonitorResults(ctx, "web", time.Time{}, 10, false)
		if err != nil || len(got) != 10 || got[0].Duration != 249*time.Millisecond || !got[0].At.Equal(t0.Add(249*time.Second)) {
			t.Fatalf("results = %+v, %v; want the newest 10", got, err)
		}
		failed, err := s.MonitorResults(ctx, "web", got[9].At, 100, true)
		if err != nil || len(failed) != 48 || failed[0].Error != "refused" || string(failed[0].Evidence) != `[{"condition":"ok"}]` {
			t.Fatalf("failed = %d rows, first %+v, %v; want 48 with evidence", len(failed), failed, err)
		}
		tr, err := s.MonitorTransitions(ctx, "web", 10)
		if err != nil || len(tr) != 1 || tr[0].To != "down" || tr[0].Reason != "3 failures" {
			t.Fatalf("transitions = %+v, %v", tr, err)
		}
		n, err := s.PruneMonitor(ctx, t0.Add(200*time.Second), MonitorRetention{Results: 100 * time.Second, Hours: time.Minute})
		if err != nil || n != 101 {
			t.Errorf("pruned %d rows, %v; want 100 results and 1 hour rollup", n, err)
		}
		if err := s.DeleteMonitorCheck(ctx, "web"); err != nil {
			t.Fatal(err)
		}
		if states, _ := s.MonitorStates(ctx); len(states) != 0 {
			t.Errorf("states after delete = %+v", states)
		}
	})
}

// TestEachRollupCount reads the runs of every check's rollups of one
// level, location and range, without their latencies.
func TestEachRollupCount(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		var rows []Rollup
		for _, c := range []struct {
			id, loc, level string
			at             time.Time
		}{{"web", "local", LevelMinute, t0.Add(time.Minute)}, {"api", "local", LevelMinute, t0}, {"web", "local", LevelMinute, t0},
			{"web", "local", LevelHour, t0}, {"web", "local", LevelMinute, t0.Add(-time.Minute)}, {"dns", "local", LevelMinute, t0.Add(2 * time.Minute)},
			{"web", "paris", LevelMinute, t0}} {
			r := Rollup{CheckID: c.id, Location: c.loc, Level: c.level, Bucket: c.at}
			r.Observe("ok", 5*time.Millisecond)
			r.Observe("fail", 7*time.Millisecond)
			r.Observe("warn", 3*time.Millisecond)
			rows = append(rows, r)
		}
		if err := s.SaveMonitor(ctx, &MonitorBatch{Rollups: rows}); err != nil {
			t.Fatal(err)
		}
		var got []string
		err := s.EachRollupCount(ctx, "local", LevelMinute, t0, t0.Add(2*time.Minute), func(c RollupCount) {
			got = append(got, fmt.Sprintf("%s@%s n=%d ok=%d sum=%v", c.CheckID, c.Bucket.Format("15:04"), c.N, c.OK, c.Sum))
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		want := []string{"api@10:00 n=3 ok=2 sum=15ms", "web@10:00 n=3 ok=2 sum=15ms", "web@10:01 n=3 ok=2 sum=15ms"}
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Errorf("counts = %q, want %q (minute level, local, in range)", got, want)
		}
		if err := s.EachRollupCount(ctx, "nowhere", LevelDay, t0, t0, func(RollupCount) { t.Error("a row of an empty range") }); err != nil {
			t.Fatal(err)
		}
	})
}
