package monitor

import (
	"container/heap"
	"context"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"
)

// Job is one run the scheduler hands to a worker.
type Job struct {
	ID        string
	Scheduled time.Time // when the run was due
	Started   time.Time // when a worker began it
}

// Lag is how late the run started.
func (j Job) Lag() time.Duration { return j.Started.Sub(j.Scheduled) }

// Slot is what the scheduler needs to know of a check.
type Slot struct {
	ID       string
	Interval time.Duration
}

// Scheduler runs every slot at its interval, each at a stable offset
// within the interval (a hash of its id, so runs are spread, not bursts,
// and keep their place across restarts), on a bounded pool of workers. A
// run still going when the next is due makes that next run skipped, so a
// slow target never holds a worker twice nor delays other checks.
type Scheduler struct {
	// Clock is the time; nil means the wall clock.
	Clock Clock
	// Workers bound the runs at once (they wait on I/O, so many); 0 means 256.
	Workers int
	// Run does one run; it is called from the workers.
	Run func(ctx context.Context, j Job)
	// Done, when set, is called after each run, once the next run of the
	// same check may start.
	Done func(j Job)
	// Skipped, when set, is called for each run that did not happen (the
	// previous one still going, the queue full, or the scheduler late by
	// whole intervals), with how many.
	Skipped func(id string, n int)
	// Idle, when set, is called each time the scheduler is about to wait,
	// with the next due time (zero when none) and how many runs it has
	// just handed to the workers; tests step the clock with it.
	Idle func(next time.Time, dispatched int)

	mu      sync.Mutex
	entries map[string]*entry
	queue   entryHeap
	wake    chan struct{}
	jobs    chan *runReq
	skipped atomic.Int64
}

type entry struct {
	Slot
	offset  time.Duration
	next    time.Time
	running atomic.Bool
	index   int
}

type runReq struct {
	e         *entry
	scheduled time.Time
}

func (s *Scheduler) init() {
	if s.entries == nil {
		s.entries = map[string]*entry{}
		s.wake = make(chan struct{}, 1)
		if s.Clock == nil {
			s.Clock = Real()
		}
		if s.Workers <= 0 {
			s.Workers = 256
		}
		s.jobs = make(chan *runReq, 1<<16)
	}
}

// Offset is the stable place of id within its interval.
func Offset(id string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(interval))
}

// nextSlot is the first time after now at which a slot with
// interval and offset runs: interval boundaries since the Unix epoch plus offset.
func nextSlot(now time.Time, interval, offset time.Duration) time.Time {
	base := time.Unix(0, 0).Add(now.Sub(time.Unix(0, 0)).Truncate(interval)).Add(offset)
	for !base.After(now) {
		base = base.Add(interval)
	}
	return base
}

// Set replaces the scheduled slots. A slot already scheduled with the same
// interval keeps its next run; new ones start at their next offset.
func (s *Scheduler) Set(slots []Slot) {
	s.mu.Lock()
	s.init()
	now := s.Clock.Now()
	keep := map[string]bool{}
	for _, sl := range slots {
		keep[sl.ID] = true
		if e, ok := s.entries[sl.ID]; ok && e.Interval == sl.Interval {
			continue
		} else if ok {
			heap.Remove(&s.queue, e.index)
		}
		e := &entry{Slot: sl, offset: Offset(sl.ID, sl.Interval)}
		e.next = nextSlot(now, sl.Interval, e.offset)
		s.entries[sl.ID] = e
		heap.Push(&s.queue, e)
	}
	for id, e := range s.entries {
		if !keep[id] {
			heap.Remove(&s.queue, e.index)
			delete(s.entries, id)
		}
	}
	s.mu.Unlock()
	s.poke()
}

// RunNow queues a run of id now, outside its schedule; false when id is
// not scheduled or a run of it is going.
func (s *Scheduler) RunNow(id string) bool {
	s.mu.Lock()
	s.init()
	e, ok := s.entries[id]
	s.mu.Unlock()
	return ok && s.dispatch(e, s.Clock.Now())
}

// SkippedRuns is the number of runs skipped so far.
func (s *Scheduler) SkippedRuns() int64 { return s.skipped.Load() }

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start runs the scheduler and its workers until ctx ends; the workers
// finish their runs before it returns.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	s.init()
	s.mu.Unlock()
	var wg sync.WaitGroup
	for range s.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(ctx)
		}()
	}
	s.loop(ctx)
	wg.Wait()
}

func (s *Scheduler) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-s.jobs:
			j := Job{ID: r.e.ID, Scheduled: r.scheduled, Started: s.Clock.Now()}
			s.Run(ctx, j)
			r.e.running.Store(false)
			if s.Done != nil {
				s.Done(j)
			}
		}
	}
}

func (s *Scheduler) loop(ctx context.Context) {
	for {
		wait, n := s.dispatchDue()
		var timer <-chan time.Time
		next := time.Time{}
		if wait >= 0 {
			now := s.Clock.Now()
			timer, next = s.Clock.After(wait), now.Add(wait)
		}
		if s.Idle != nil {
			s.Idle(next, n)
		}
		select {
		case <-ctx.Done():
			return
		case <-timer:
		case <-s.wake:
		}
	}
}

// dispatchDue starts every run that is due and returns how long until the
// next (-1 when nothing is scheduled) and how many it started.
func (s *Scheduler) dispatchDue() (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	n := 0
	for len(s.queue) > 0 {
		e := s.queue[0]
		if e.next.After(now) {
			return e.next.Sub(now), n
		}
		due := e.next
		// Late by whole intervals (a paused process, an overloaded
		// machine): those runs are skipped, the latest one runs.
		if late := now.Sub(due) / e.Interval; late > 0 {
			s.skip(e.ID, int(late))
			due = due.Add(late * e.Interval)
		}
		e.next = due.Add(e.Interval)
		heap.Fix(&s.queue, 0)
		if s.dispatch(e, due) {
			n++
		}
	}
	return -1, n
}

// dispatch hands a run to the workers unless one of e is going.
func (s *Scheduler) dispatch(e *entry, due time.Time) bool {
	if !e.running.CompareAndSwap(false, true) {
		s.skip(e.ID, 1)
		return false
	}
	select {
	case s.jobs <- &runReq{e, due}:
		return true
	default:
		e.running.Store(false)
		s.skip(e.ID, 1)
		return false
	}
}

func (s *Scheduler) skip(id string, n int) {
	s.skipped.Add(int64(n))
	if s.Skipped != nil {
		s.Skipped(id, n)
	}
}

type entryHeap []*entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
