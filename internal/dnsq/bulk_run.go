package dnsq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// bulkRun is the state shared by the goroutines of one Bulk call.
//
// The reader parses lines ahead into a small channel of batches. On the UDP
// path each socket's receiver, after matching a batch of replies, emits
// their results and refills the socket itself (pump), so in the steady state
// a name goes from input to wire to output without a goroutine hand-off;
// the socket's sender goroutine only starts the flow and resumes it when
// it stalled (kick). At most conc names are taken (held) at once.
type bulkRun struct {
	req     BulkRequest
	client  *Client
	timeout time.Duration
	tries   int
	conc    int
	batch   int
	limiter *rate.Limiter
	cancel  context.CancelFunc

	lines chan []*bulkJob // parsed ahead by the reader; closed at the end of input

	takeMu       sync.Mutex
	pending      []*bulkJob // taken from lines, not yet sent
	retryQ       []*bulkJob // timed out, to send again
	inputDone    bool       // lines is closed and drained
	held         atomic.Int64
	inputStarved atomic.Bool // a pump found no input: kick the senders when some comes
	kicks        []chan struct{}

	outMu    sync.Mutex
	emit     func(BulkResult) error
	sum      BulkSummary
	emitted  int
	total    int // results to expect; -1 until the input ends
	emitErr  error
	inputErr error
	closed   bool // Bulk has returned: emit no more
	done     chan struct{}
	doneOnce sync.Once

	queries atomic.Int64
	wg      sync.WaitGroup
}

// Bulk looks up every name in req.Input and calls emit with each result as
// it arrives, in no particular order, one at a time (never concurrently;
// from the engine's goroutines; never after Bulk returns). Memory stays
// bounded whatever the input size: at most Concurrency names are in flight
// and a few hundred parsed ahead. Every input line gets exactly one result
// unless ctx ends or emit fails first; then Bulk stops and returns that
// error (without waiting for a Read of Input that blocks). An error reading
// Input ends the run after the names already read, and is returned.
func Bulk(ctx context.Context, req BulkRequest, emit func(BulkResult) error) (BulkSummary, error) {
	r, err := newBulkRun(req, emit)
	if err != nil {
		return BulkSummary{}, err
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.cancel = cancel
	start := time.Now()
	if err := r.startEngine(ctx); err != nil {
		cancel()
		r.wg.Wait()
		return BulkSummary{}, err
	}
	// The reader is not waited for: a Read of Input (a terminal, a pipe)
	// may block past ctx. Once Bulk returns it can emit nothing (closed).
	go r.read(ctx, req.Input)
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	cancel()
	r.wg.Wait()
	r.outMu.Lock()
	r.closed = true
	sum, emitErr, inputErr := r.sum, r.emitErr, r.inputErr
	r.outMu.Unlock()
	sum.finish(time.Since(start), r.queries.Load())
	select {
	case <-r.done:
		return sum, errors.Join(emitErr, inputErr)
	default:
	}
	if emitErr != nil {
		return sum, emitErr
	}
	return sum, fmt.Errorf("bulk lookup: %w", context.Cause(parent))
}

func newBulkRun(req BulkRequest, emit func(BulkResult) error) (*bulkRun, error) {
	switch {
	case req.Input == nil:
		return nil, errors.New("bulk lookup: no input")
	case len(req.Servers) == 0:
		return nil, fmt.Errorf("bulk lookup: %w", ErrNoServers)
	case req.Concurrency < 0:
		return nil, fmt.Errorf("bulk lookup: concurrency %d is negative", req.Concurrency)
	case req.Rate < 0:
		return nil, fmt.Errorf("bulk lookup: rate %g is negative", req.Rate)
	}
	r := &bulkRun{req: req, client: req.Client, emit: emit, total: -1, done: make(chan struct{})}
	if r.client == nil {
		r.client = &Client{}
	}
	r.timeout, r.tries = r.client.timeout(), r.client.tries()
	r.conc = req.Concurrency
	if r.conc == 0 {
		r.conc = 100
	}
	r.conc = min(r.conc, MaxBulkConcurrency)
	if allUDP(req.Servers) {
		r.batch = maxBatch
		r.lines = make(chan []*bulkJob, 4)
	} else {
		r.batch = 1
		r.lines = make(chan []*bulkJob, r.conc)
	}
	if req.Rate > 0 {
		burst := max(1, int(req.Rate/100))
		r.limiter = rate.NewLimiter(rate.Limit(req.Rate), burst)
	}
	return r, nil
}

// maxBatch is the most names handled in one go (one sendmmsg, one recvmmsg).
const maxBatch = 64

func allUDP(servers []Server) bool {
	for _, s := range servers {
		if s.Transport != UDP && s.Transport != "" {
			return false
		}
	}
	return true
}

// startEngine starts the senders: UDP sockets when every server speaks
// plain DNS over UDP, else workers that call the Client.
func (r *bulkRun) startEngine(ctx context.Context) error {
	if !allUDP(r.req.Servers) {
		r.startExchangeWorkers(ctx)
		return nil
	}
	return r.startUDP(ctx)
}

// finish hands results to emit, one at a time under outMu, frees the slots
// of held names and ends the run when the last result is in.
func (r *bulkRun) finish(held bool, res ...BulkResult) {
	if len(res) == 0 {
		return
	}
	r.outMu.Lock()
	for _, x := range res {
		if r.emitErr != nil || r.closed {
			break
		}
		r.sum.Add(x)
		if err := r.emit(x); err != nil {
			r.emitErr = fmt.Errorf("bulk lookup: %w", err)
			r.cancel()
		}
	}
	r.emitted += len(res)
	end := r.total >= 0 && r.emitted >= r.total
	r.outMu.Unlock()
	if held {
		r.held.Add(-int64(len(res)))
	}
	if end {
		r.end()
	}
}

// inputEnd records how many results the input calls for.
func (r *bulkRun) inputEnd(total int, err error) {
	r.outMu.Lock()
	r.total, r.inputErr = total, err
	end := r.emitted >= total
	r.outMu.Unlock()
	if end {
		r.end()
	}
}

func (r *bulkRun) end() { r.doneOnce.Do(func() { close(r.done) }) }

// takeJobs returns up to n names to send: retries first, then new names
// while fewer than conc are held.
func (r *bulkRun) takeJobs(n int) []*bulkJob {
	r.takeMu.Lock()
	defer r.takeMu.Unlock()
	if k := min(n, len(r.retryQ)); k > 0 {
		js := make([]*bulkJob, k)
		copy(js, r.retryQ)
		r.retryQ = append(r.retryQ[:0], r.retryQ[k:]...)
		return js
	}
	room := r.conc - int(r.held.Load())
	if room <= 0 {
		return nil // a receiver, the reaper or a TCP retry frees room, then pumps or kicks
	}
	if len(r.pending) == 0 && !r.inputDone {
		// Flag before looking, so that a batch sent after the look kicks.
		r.inputStarved.Store(true)
		select {
		case b, ok := <-r.lines:
			if ok {
				r.pending = b
			} else {
				r.inputDone = true
			}
		default:
		}
	}
	k := min(n, room, len(r.pending))
	if k == 0 {
		return nil
	}
	js := r.pending[:k:k]
	r.pending = r.pending[k:]
	r.held.Add(int64(k))
	return js
}

// requeue queues timed-out names to be sent again.
func (r *bulkRun) requeue(js []*bulkJob) {
	if len(js) == 0 {
		return
	}
	r.takeMu.Lock()
	r.retryQ = append(r.retryQ, js...)
	r.takeMu.Unlock()
}

// kickAll wakes every socket's sender to pump.
func (r *bulkRun) kickAll() {
	for _, k := range r.kicks {
		kick(k)
	}
}

func kick(k chan struct{}) {
	select {
	case k <- struct{}{}:
	default:
	}
}

// wait honours the rate limit before a query.
func (r *bulkRun) wait(ctx context.Context) error {
	if r.limiter == nil {
		return nil
	}
	return r.limiter.Wait(ctx)
}
