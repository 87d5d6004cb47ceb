package runner

import (
	"fmt"
	"sync"
	"time"
)

// BusyError refuses a measurement because its client already has as many
// waiting or running as it may: the server answers 429 with Retry-After.
type BusyError struct {
	Pending    int
	RetryAfter time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("this client already has %d measurements waiting or running; retry in %s", e.Pending, e.RetryAfter)
}

// job is one accepted measurement waiting for, or holding, a worker.
type job struct {
	client string
	// start is closed when the job is given a worker.
	start   chan struct{}
	started bool
}

// fairQueue hands workers to clients in turn: each client has its own
// bounded queue, at most share of the workers, and the next free worker
// goes to the next client (round robin) that has a job waiting and room
// in its share. One client flooding the service only lengthens its own
// queue.
type fairQueue struct {
	mu      sync.Mutex
	workers int // workers in all
	share   int // at most this many running per client
	bound   int // at most this many waiting or running per client
	running int
	clients map[string]*clientJobs
	ring    []string // clients with jobs waiting, in turn order
	next    int
}

type clientJobs struct {
	waiting []*job
	running int
}

func newFairQueue(workers, share, bound int) *fairQueue {
	return &fairQueue{workers: workers, share: share, bound: bound, clients: map[string]*clientJobs{}}
}

// admit reserves a place for one of client's jobs, or refuses with a
// *BusyError when its queue is full.
func (q *fairQueue) admit(client string) (*job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.clients[client]
	if c == nil {
		c = &clientJobs{}
		q.clients[client] = c
	}
	if pending := len(c.waiting) + c.running; pending >= q.bound {
		return nil, &BusyError{Pending: pending, RetryAfter: 5 * time.Second}
	}
	j := &job{client: client, start: make(chan struct{})}
	if len(c.waiting) == 0 {
		q.ring = append(q.ring, client)
	}
	c.waiting = append(c.waiting, j)
	q.pump()
	return j, nil
}

// withdraw removes a job that has not started (its deadline passed, the
// server stops, or it could not be stored); false means it has a worker
// already and must release it.
func (q *fairQueue) withdraw(j *job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if j.started {
		return false
	}
	c := q.clients[j.client]
	for i, w := range c.waiting {
		if w == j {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
			break
		}
	}
	if len(c.waiting) == 0 {
		q.dropFromRing(j.client)
	}
	q.forget(j.client, c)
	return true
}

// release gives a finished job's worker to the next client in turn.
func (q *fairQueue) release(j *job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.clients[j.client]
	c.running--
	q.running--
	q.forget(j.client, c)
	q.pump()
}

// pump starts waiting jobs while workers are free, one client at a time
// in turn, skipping clients at their share. Called with mu held.
func (q *fairQueue) pump() {
	for q.running < q.workers && len(q.ring) > 0 {
		startedOne := false
		for range len(q.ring) {
			if q.next >= len(q.ring) {
				q.next = 0
			}
			client := q.ring[q.next]
			c := q.clients[client]
			if c.running >= q.share {
				q.next++
				continue
			}
			j := c.waiting[0]
			c.waiting = c.waiting[1:]
			c.running++
			q.running++
			j.started = true
			close(j.start)
			startedOne = true
			if len(c.waiting) == 0 {
				q.dropFromRing(client)
			} else {
				q.next++
			}
			break
		}
		if !startedOne {
			return // every waiting client is at its share
		}
	}
}

func (q *fairQueue) dropFromRing(client string) {
	for i, c := range q.ring {
		if c == client {
			q.ring = append(q.ring[:i], q.ring[i+1:]...)
			if q.next > i {
				q.next--
			}
			return
		}
	}
}

// forget drops a client with nothing waiting or running.
func (q *fairQueue) forget(client string, c *clientJobs) {
	if len(c.waiting) == 0 && c.running == 0 {
		delete(q.clients, client)
	}
}
