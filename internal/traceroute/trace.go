package traceroute

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

const defaultDNSTry = time.Second

// run is the state of one Trace call.
type run struct {
	t       *Tracer
	req     Request
	flows   []*flow
	replies chan reply
	hops    []*hopState // index TTL-1
	report  int         // hops to report
	endTTL  int         // TTL at which the destination (or an unreachable) answered; 0 unknown
	reached bool

	names    map[netip.Addr]string
	asked    map[netip.Addr]bool
	lookups  chan nameResult
	inDNS    int
	done     chan struct{}
	lastSend error
	sentOK   bool
	mtr      bool // rounds: no adaptive wait, no retry
}

type hopState struct {
	hop Hop
	acc accumulator
	// In MTR mode, a router that drops probes while the path beyond it
	// answers is paced: no probe goes to it sooner than pace after the
	// last one it answered (lastAns, the time that probe was sent).
	lastAns time.Time
	pace    time.Duration
}

// maxPace bounds the pace of a rate-limited hop in MTR mode.
const maxPace = 30 * time.Second

// paced reports whether, in MTR mode, hs's router must not be probed at now.
func (hs *hopState) paced(now time.Time) bool {
	return hs.pace > 0 && now.Before(hs.lastAns.Add(hs.pace))
}

// slowDown lengthens hs's pace after its router dropped a probe sent at
// sent while the path beyond answered: half as long again as the time
// since its last answer, which was too short.
func (hs *hopState) slowDown(sent time.Time) {
	if hs.lastAns.IsZero() {
		return
	}
	if gap := sent.Sub(hs.lastAns); gap > 0 {
		hs.pace = min(max(hs.pace, gap*3/2), maxPace)
	}
}

// update refreshes the hop's statistics and state from its accumulator.
func (hs *hopState) update() {
	hs.hop.Stats = hs.acc.stats()
	hs.hop.State = hs.acc.state()
}

type nameResult struct {
	addr netip.Addr
	name string
}

// probeState is one probe in flight.
type probeState struct {
	k        key
	flow     int
	ttl      int
	slot     int // index in the hop's Probes
	sent     time.Time
	deadline time.Time
	done     bool
}

// Trace traces the path to req.Target and returns every hop. In MTR mode
// (req.Rounds or req.Continuous) it runs rounds until they are done or ctx
// ends; a continuous trace returns the result so far with ctx's error.
func (t *Tracer) Trace(ctx context.Context, req Request) (*Result, error) {
	req, err := req.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &run{
		t: t, req: req,
		hops:    make([]*hopState, req.MaxHops),
		names:   map[netip.Addr]string{},
		asked:   map[netip.Addr]bool{},
		lookups: make(chan nameResult),
		done:    make(chan struct{}),
		mtr:     req.Rounds > 0 || req.Continuous,
	}
	defer close(r.done)
	for i := range r.hops {
		r.hops[i] = &hopState{hop: Hop{TTL: i + 1}}
	}
	for i := range r.hops {
		r.hops[i].hop.State = StateSilent
	}
	for range req.Flows {
		f, err := t.openFlow(req)
		if err != nil {
			r.closeFlows()
			return nil, fmt.Errorf("tracing %s: %w", req.Target, err)
		}
		r.flows = append(r.flows, f)
	}
	defer r.closeFlows()
	res := &Result{Target: req.Target, Protocol: req.Protocol, MaxHops: req.MaxHops,
		Queries: req.Queries, Flows: req.Flows, Started: time.Now(), Mode: "raw"}
	if req.Protocol != ICMP {
		res.Port = req.Port
	}
	if r.flows[0].unpri {
		res.Mode = "unprivileged"
	}
	err = r.rounds(ctx, res)
	r.waitNames(ctx)
	res.Reached = r.reached
	res.DurationMS = float64(time.Since(res.Started).Microseconds()) / 1000
	for _, h := range r.hops[:r.report] {
		res.Hops = append(res.Hops, copyHop(h.hop))
	}
	return res, err
}

func (r *run) closeFlows() {
	for _, f := range r.flows {
		f.close()
	}
	r.flows = nil
}

// rounds runs one round and the slow retry for a plain trace, several
// rounds in MTR mode.
func (r *run) rounds(ctx context.Context, res *Result) error {
	for n := 1; ; n++ {
		start := time.Now()
		if err := r.round(ctx); err != nil {
			return err
		}
		res.Rounds = n
		if !r.mtr {
			return r.retrySilent(ctx)
		}
		if !r.req.Continuous && n >= r.req.Rounds {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(start.Add(r.req.Interval))):
		}
	}
}

// round sends Queries probes per hop and flow, every TTL in flight at once
// (up to MaxInflight), and stops by the finish rule: the destination
// answered and every lower TTL is resolved; or, when it does not answer,
// Gap silent TTLs past the last answer are resolved; or MaxHops.
func (r *run) round(ctx context.Context) error {
	q := r.newRound(r.req.MaxHops, false)
	if r.endTTL > 0 {
		q.maxTTL = r.endTTL
	}
	q.plan()
	err := q.loop(ctx)
	r.report = max(r.report, q.reportable())
	if err != nil {
		return err
	}
	if q.end > 0 {
		r.endTTL = q.end
	}
	return nil
}

// retrySilent probes once more, RetryPause after the first round, every
// hop that answered nothing while a later hop answered: a router whose ICMP
// rate limit the first probes found exhausted answers now, and is then
// rate-limited rather than silent. The retry waits the adaptive wait.
func (r *run) retrySilent(ctx context.Context) error {
	ttls := r.silentBetween()
	if r.req.NoRetry || len(ttls) == 0 {
		return nil
	}
	if r.req.RetryPause > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.req.RetryPause):
		}
	}
	q := r.newRound(ttls[len(ttls)-1], true)
	q.unresolved = make([]int, q.maxTTL)
	for i, ttl := range ttls {
		h := &r.hops[ttl-1].hop
		f := i % r.req.Flows
		q.planned = append(q.planned, &probeState{flow: f, ttl: ttl, slot: len(h.Probes)})
		h.Probes = append(h.Probes, Probe{Flow: f, Retry: true})
		q.unresolved[ttl-1] = 1
	}
	return q.loop(ctx)
}

// silentBetween lists the TTLs that answered nothing below the highest
// TTL that answered.
func (r *run) silentBetween() []int {
	last := 0
	for ttl := 1; ttl <= r.report; ttl++ {
		if r.hops[ttl-1].acc.recv > 0 {
			last = ttl
		}
	}
	var out []int
	for ttl := 1; ttl < last; ttl++ {
		if r.hops[ttl-1].acc.recv == 0 {
			out = append(out, ttl)
		}
	}
	return out
}

func (r *run) addAddr(hs *hopState, a netip.Addr, flow int) {
	for i := range hs.hop.Addrs {
		if hs.hop.Addrs[i].Addr == a {
			if !slices.Contains(hs.hop.Addrs[i].Flows, flow) {
				hs.hop.Addrs[i].Flows = append(hs.hop.Addrs[i].Flows, flow)
				slices.Sort(hs.hop.Addrs[i].Flows)
			}
			return
		}
	}
	hs.hop.Addrs = append(hs.hop.Addrs, HopAddr{Addr: a, Name: r.names[a], Flows: []int{flow}})
	r.lookup(a)
}

// lookup starts a reverse lookup of a, once per trace.
func (r *run) lookup(a netip.Addr) {
	if r.req.Resolver == nil || r.asked[a] {
		return
	}
	r.asked[a] = true
	r.inDNS++
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), r.req.DNSTimeout)
		defer cancel()
		name, _ := r.req.Resolver.LookupAddr(ctx, a)
		select {
		case r.lookups <- nameResult{addr: a, name: name}:
		case <-r.done:
		}
	}()
}

func (r *run) named(nr nameResult) {
	r.inDNS--
	if nr.name == "" {
		return
	}
	r.names[nr.addr] = nr.name
	for _, hs := range r.hops {
		for i := range hs.hop.Addrs {
			if hs.hop.Addrs[i].Addr == nr.addr {
				hs.hop.Addrs[i].Name = nr.name
				r.notify(hs)
			}
		}
	}
}

// waitNames waits for the reverse lookups still running (each bounded by
// DNSTimeout).
func (r *run) waitNames(ctx context.Context) {
	for r.inDNS > 0 {
		select {
		case nr := <-r.lookups:
			r.named(nr)
		case <-ctx.Done():
			return
		}
	}
}

func (r *run) notify(hs *hopState) {
	if r.req.OnHop != nil {
		r.req.OnHop(copyHop(hs.hop))
	}
}

func copyHop(h Hop) Hop {
	h.Addrs = slices.Clone(h.Addrs)
	for i := range h.Addrs {
		h.Addrs[i].Flows = slices.Clone(h.Addrs[i].Flows)
	}
	h.Probes = slices.Clone(h.Probes)
	return h
}

// errNoProbes is wrapped when not a single probe could be sent.
var errNoProbes = errors.New("no probe could be sent")
