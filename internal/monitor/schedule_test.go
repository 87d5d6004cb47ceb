package monitor

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

type idleEvent struct {
	next time.Time
	n    int
}

// stepper drives a scheduler on a fake clock: it advances the clock to
// each next due time and waits for the runs started then.
type stepper struct {
	clock *FakeClock
	idle  chan idleEvent
	next  time.Time
}

func newStepper(s *Scheduler, clock *FakeClock) *stepper {
	st := &stepper{clock: clock, idle: make(chan idleEvent, 1024)}
	s.Clock = clock
	s.Idle = func(next time.Time, n int) { st.idle <- idleEvent{next, n} }
	return st
}

// start waits for the scheduler's first wait.
func (st *stepper) start(t *testing.T) {
	t.Helper()
	st.next = (<-st.idle).next
}

// step advances to the next due time and returns it and the runs started.
func (st *stepper) step(t *testing.T) (time.Time, int) {
	t.Helper()
	at := st.next
	st.clock.Advance(at.Sub(st.clock.Now()))
	total := 0
	for {
		ev := <-st.idle
		total += ev.n
		if ev.next.After(at) {
			st.next = ev.next
			return at, total
		}
	}
}

func TestSchedulerSpreadsRunsAtStableOffsets(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(t0)
	runs := make(chan Job, 100)
	s := &Scheduler{Workers: 4, Run: func(context.Context, Job) {}, Done: func(j Job) { runs <- j }}
	st := newStepper(s, clock)
	var slots []Slot
	for i := range 5 {
		slots = append(slots, Slot{ID: fmt.Sprintf("c%d", i), Interval: time.Second})
	}
	slots = append(slots, Slot{ID: "slow", Interval: 10 * time.Second})
	s.Set(slots)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Start(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	st.start(t)

	count := map[string]int{}
	seen := map[time.Duration]bool{}
	for st.next.Before(t0.Add(20 * time.Second)) {
		at, n := st.step(t)
		for range n {
			j := <-runs
			count[j.ID]++
			sl := time.Second
			if j.ID == "slow" {
				sl = 10 * time.Second
			}
			if want := Offset(j.ID, sl); j.Scheduled.Sub(t0)%sl != want {
				t.Errorf("%s ran at %s: want offset %s in its %s interval", j.ID, j.Scheduled.Sub(t0), want, sl)
			}
			if !j.Scheduled.Equal(at) || j.Lag() != 0 {
				t.Errorf("%s scheduled %s started %s at clock %s: want on time", j.ID, j.Scheduled, j.Started, at)
			}
			seen[j.Scheduled.Sub(t0)%time.Second] = true
		}
	}
	for i := range 5 {
		if id := fmt.Sprintf("c%d", i); count[id] != 20 {
			t.Errorf("%s ran %d times in 20 s at 1 s; want 20", id, count[id])
		}
	}
	if count["slow"] != 2 {
		t.Errorf("slow ran %d times in 20 s at 10 s; want 2", count["slow"])
	}
	if len(seen) < 4 {
		t.Errorf("runs started at %d distinct offsets within the second; want them spread", len(seen))
	}
	if s.SkippedRuns() != 0 {
		t.Errorf("skipped %d runs; want none", s.SkippedRuns())
	}
}

func TestSchedulerSkipsARunStillGoing(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(t0)
	release := make(chan struct{})
	runs := make(chan Job, 100)
	s := &Scheduler{Workers: 2, Run: func(_ context.Context, j Job) {
		if j.ID == "stuck" {
			runs <- j
			<-release
		}
	}, Done: func(j Job) { runs <- j }}
	var skippedMu sync.Mutex
	skipped := map[string]int{}
	s.Skipped = func(id string, n int) { skippedMu.Lock(); skipped[id] += n; skippedMu.Unlock() }
	st := newStepper(s, clock)
	s.Set([]Slot{{ID: "stuck", Interval: time.Second}, {ID: "fine", Interval: time.Second}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Start(ctx) }()
	defer func() { cancel(); close(release); wg.Wait() }()
	st.start(t)
	count := map[string]int{}
	for clock.Now().Before(t0.Add(5 * time.Second)) {
		_, n := st.step(t)
		for range n {
			count[(<-runs).ID]++
		}
	}
	if count["stuck"] != 1 || count["fine"] < 4 {
		t.Errorf("runs = %v: want stuck once (still going) and fine every second", count)
	}
	skippedMu.Lock()
	defer skippedMu.Unlock()
	if skipped["stuck"] < 3 || skipped["fine"] != 0 {
		t.Errorf("skipped = %v: want stuck's later runs skipped, none of fine's", skipped)
	}
}

func TestSchedulerCountsRunsMissedWhileLate(t *testing.T) {
	t.Parallel()
	clock := NewFakeClock(t0)
	s := &Scheduler{Clock: clock, Run: func(context.Context, Job) {}}
	s.Set([]Slot{{ID: "a", Interval: time.Second}})
	s.mu.Lock()
	next := s.queue[0].next
	s.mu.Unlock()
	clock.Advance(next.Sub(t0) + 5*time.Second) // the process was paused
	wait, n := s.dispatchDue()
	if n != 1 || s.SkippedRuns() != 5 {
		t.Errorf("after a 5 s pause: %d runs started, %d skipped; want 1 and 5", n, s.SkippedRuns())
	}
	if wait != time.Second {
		t.Errorf("next run in %s; want 1s (back on its offset)", wait)
	}
}

func TestNextSlot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		now              time.Time
		interval, offset time.Duration
		want             time.Time
	}{
		{t0, time.Minute, 10 * time.Second, t0.Add(10 * time.Second)},
		{t0.Add(11 * time.Second), time.Minute, 10 * time.Second, t0.Add(70 * time.Second)},
		{t0.Add(10 * time.Second), time.Minute, 10 * time.Second, t0.Add(70 * time.Second)},
	} {
		if got := nextSlot(tc.now, tc.interval, tc.offset); !got.Equal(tc.want) {
			t.Errorf("nextSlot(%s, %s, %s) = %s, want %s", tc.now, tc.interval, tc.offset, got, tc.want)
		}
	}
}
