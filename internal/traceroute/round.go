package traceroute

import (
	"context"
	"fmt"
	"time"
)

// One round of a trace: probes sent by TTL, answers matched, probes given
// up by the timeout or the adaptive wait, and the finish rule.

// newRound prepares a round probing TTLs up to maxTTL; retry marks the
// slow retry of silent hops.
func (r *run) newRound(maxTTL int, retry bool) *roundState {
	return &roundState{run: r, maxTTL: maxTTL, retry: retry, byKey: map[key]*probeState{},
		answered: make([]bool, len(r.hops)), near: make([]int, len(r.hops)), nearDirty: true}
}

// loop sends the planned probes and handles answers, timeouts and names
// until the round is finished or ctx ends.
func (q *roundState) loop(ctx context.Context) error {
	q.replies = make(chan reply, len(q.planned))
	defer q.abandon(0)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		q.sendMore()
		if !q.sentOK && q.lastSend != nil {
			return fmt.Errorf("%w to %s: %w", errNoProbes, q.req.Target, q.lastSend)
		}
		if q.finished() {
			return nil
		}
		timer.Reset(q.nextDeadline())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case rep := <-q.replies:
			q.answer(rep)
		case <-timer.C:
			up := q.caughtUp()
			q.drain()
			q.expire(time.Now(), up)
		case nr := <-q.lookups:
			q.named(nr)
		}
	}
}

// roundState is one round's bookkeeping.
type roundState struct {
	*run
	maxTTL     int
	retry      bool // the slow retry: only planned TTLs, earlier answers count as later hops answering
	planned    []*probeState
	next       int
	inflight   int
	queue      []*probeState // sent and not yet resolved
	byKey      map[key]*probeState
	unresolved []int  // per TTL (index TTL-1)
	answered   []bool // per TTL: answered in this round
	near       []int  // per TTL: the nearest later TTL that answered, 0 none
	nearDirty  bool
	behind     bool // an adaptive expiry waits for the listeners to catch up
	end        int  // smallest TTL with a final answer this round
	lastAns    int
}

func (q *roundState) plan() {
	n := q.req.Queries * q.req.Flows
	q.unresolved = make([]int, q.maxTTL)
	for ttl := 1; ttl <= q.maxTTL; ttl++ {
		h := &q.hops[ttl-1].hop
		h.Probes = make([]Probe, n)
		q.unresolved[ttl-1] = n
		for i := range n {
			f := i % q.req.Flows
			h.Probes[i] = Probe{Flow: f}
			q.planned = append(q.planned, &probeState{flow: f, ttl: ttl, slot: i})
		}
	}
}

// limit is the highest TTL worth sending now.
func (q *roundState) limit() int {
	switch {
	case q.retry:
		return q.maxTTL
	case q.end > 0:
		return q.end
	}
	return min(q.maxTTL, q.lastAns+q.req.Gap)
}

func (q *roundState) sendMore() {
	for q.inflight < q.req.MaxInflight && q.next < len(q.planned) {
		p := q.planned[q.next]
		if p.ttl > q.limit() {
			return
		}
		q.next++
		if hs := q.hops[p.ttl-1]; q.mtr && hs.paced(time.Now()) {
			hs.hop.Probes[p.slot].Paced = true
			p.done = true
			q.unresolved[p.ttl-1]--
			continue
		}
		f := q.flows[p.flow]
		p.k = f.nextKey()
		q.byKey[p.k] = p
		q.t.register(p.k, q.req.Target, q.replies)
		p.sent = time.Now()
		p.deadline = p.sent.Add(q.req.Timeout)
		if err := f.send(p.k, p.ttl); err != nil {
			q.lastSend = err
			q.t.unregister(p.k)
			p.deadline = p.sent // resolved as lost at the next expiry
		} else {
			q.sentOK = true
		}
		q.inflight++
		q.queue = append(q.queue, p)
	}
}

func (q *roundState) finished() bool {
	lim := q.limit()
	for ttl := 1; ttl <= lim; ttl++ {
		if q.unresolved[ttl-1] > 0 {
			return false
		}
	}
	return true
}

func (q *roundState) reportable() int {
	if q.end > 0 {
		return q.end
	}
	return q.limit()
}

// nextDeadline is the time until the earliest probe is due, dropping
// resolved probes from the queue; while an adaptive expiry waits for the
// listeners to catch up, a millisecond.
func (q *roundState) nextDeadline() time.Duration {
	q.refreshNear()
	var first time.Time
	live := q.queue[:0]
	for _, p := range q.queue {
		if p.done {
			continue
		}
		live = append(live, p)
		if d := q.due(p); first.IsZero() || d.Before(first) {
			first = d
		}
	}
	clear(q.queue[len(live):])
	q.queue = live
	if q.behind {
		return time.Millisecond
	}
	if first.IsZero() {
		return time.Hour
	}
	return max(time.Until(first), 0)
}

// due is when p is given up: Timeout after it was sent, or, in a plain
// trace once a later hop has answered, the adaptive wait (Request.MinWait).
func (q *roundState) due(p *probeState) time.Time {
	if q.mtr {
		return p.deadline
	}
	u := q.near[p.ttl-1]
	if u == 0 {
		return p.deadline
	}
	rtt := max(q.hops[u-1].acc.worstRTT(), q.hops[p.ttl-1].acc.worstRTT())
	w := min(max(AdaptiveMultiple*rtt, q.req.MinWait), q.req.Timeout)
	if d := p.sent.Add(w); d.Before(p.deadline) {
		return d
	}
	return p.deadline
}

// refreshNear recomputes, after answers, the nearest later TTL that
// answered for every TTL: in this round, or in any round for the retry.
func (q *roundState) refreshNear() {
	if !q.nearDirty {
		return
	}
	q.nearDirty = false
	next := 0
	for ttl := len(q.hops); ttl >= 1; ttl-- {
		q.near[ttl-1] = next
		if q.answered[ttl-1] || (q.retry && q.hops[ttl-1].acc.recv > 0) {
			next = ttl
		}
	}
}

// resolve marks p answered or lost.
func (q *roundState) resolve(p *probeState) {
	p.done = true
	q.inflight--
	if p.ttl <= q.maxTTL {
		q.unresolved[p.ttl-1]--
	}
}

// drain handles the answers already delivered, so a late timer never
// declares lost a probe whose answer is waiting in the channel.
func (q *roundState) drain() {
	for {
		select {
		case rep := <-q.replies:
			q.answer(rep)
		default:
			return
		}
	}
}

// caughtUp reports whether the listeners of every flow have read all that
// arrived, so that no answer that came in time is still unread.
func (q *roundState) caughtUp() bool {
	for _, f := range q.flows {
		if f.in != nil && !f.in.caughtUp() {
			return false
		}
	}
	return true
}

// expire gives up the probes that are due. A probe given up early by the
// adaptive wait waits instead while the listeners are behind (up false):
// on a loaded machine its answer may have arrived in time and be unread.
func (q *roundState) expire(now time.Time, up bool) {
	q.refreshNear()
	q.behind = false
	for _, p := range q.queue {
		if p.done {
			continue
		}
		due := q.due(p)
		if due.After(now) {
			continue
		}
		if !up && now.Before(p.deadline) {
			q.behind = true
			continue
		}
		q.t.unregister(p.k)
		q.resolve(p)
		hs := q.hops[p.ttl-1]
		hs.hop.Probes[p.slot].Timeout = true
		forwarded := q.near[p.ttl-1] != 0
		hs.acc.lost(forwarded)
		if forwarded && q.mtr {
			hs.slowDown(p.sent)
		}
		hs.update()
		q.notify(hs)
	}
}

// abandon forgets every unanswered probe above TTL above (all when 0).
func (q *roundState) abandon(above int) {
	for _, p := range q.queue {
		if !p.done && p.ttl > above {
			q.t.unregister(p.k)
			q.resolve(p)
		}
	}
}

func (q *roundState) answer(rep reply) {
	p := q.byKey[rep.key]
	if p == nil || p.done {
		return
	}
	q.resolve(p)
	hs := q.hops[p.ttl-1]
	pr := &hs.hop.Probes[p.slot]
	rtt := rep.at.Sub(p.sent)
	*pr = Probe{Flow: p.flow, Addr: rep.from, RTT: rtt, RTTMS: float64(rtt.Microseconds()) / 1000, Retry: pr.Retry,
		ICMPType: rep.icmpType, ICMPCode: rep.icmpCode, TCPFlags: rep.tcpFlags, ReplyTTL: rep.ttl, MPLS: rep.mpls}
	final, reached := false, false
	switch rep.kind {
	case kindEchoReply, kindTCP:
		final, reached = true, true
	case kindUnreachable:
		pr.Flag = unreachFlag(rep.key.v6, rep.icmpCode)
		final, reached = true, pr.Flag == "" && rep.from == q.req.Target
		hs.hop.Flag = pr.Flag
	}
	hs.acc.add(rtt)
	hs.lastAns = p.sent
	hs.update()
	q.addAddr(hs, rep.from, p.flow)
	q.lastAns = max(q.lastAns, p.ttl)
	q.answered[p.ttl-1] = true
	q.nearDirty = true
	if final && (q.end == 0 || p.ttl < q.end) {
		q.end = p.ttl
		hs.hop.Reached = reached
		q.reached = q.reached || reached
		q.abandon(p.ttl)
	}
	q.notify(hs)
}
