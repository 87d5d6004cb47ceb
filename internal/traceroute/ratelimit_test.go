//go:build linux

package traceroute_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/testnet"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// nftables gives a bare "limit rate 1/second" a burst of 5 packets, more
// than the 3 probes a trace sends a router; these limits make the limiting
// visible: one answer then one a second (nftables' strictest), and the burst
// variant, two answers then one a second.
const (
	limitOne   = "1/second burst 1 packets"
	limitBurst = "1/second burst 2 packets"
)

// rateLimitedChain is a 30-hop path (29 routers) with 3 silent routers and
// 5 that rate-limit their ICMP time-exceeded messages.
func rateLimitedChain(net byte) (testnet.Topology, map[string]int, []string) {
	topo := testnet.Chain(net, 29)
	silent := []string{"r7", "r15", "r22"}
	for _, r := range silent {
		topo.Spec(r).Silent = true
	}
	// Router rK is hop K; the value is how many of 3 probes it answers.
	limited := map[string]int{"r4": 1, "r10": 1, "r13": 1, "r18": 2, "r25": 2}
	for r, n := range limited {
		topo.Spec(r).ICMPLimit = map[int]string{1: limitOne, 2: limitBurst}[n]
	}
	return topo, limited, silent
}

func hopOf(router string) int {
	var k int
	fmt.Sscanf(router, "r%d", &k)
	return k
}

// TestRateLimitedPath: on a fresh 30-hop path with 3 silent and 5
// rate-limiting routers, every rate-limited hop is labelled, no silent hop
// answers, no answering hop is called silent, no rate-limited drop counts
// as loss, and the trace takes no longer than twice the system traceroute.
// The same over IPv6. Then, with the limits spent by traceroute, a trace
// with a 1 s retry pause still finds every limited router.
func TestRateLimitedPath(t *testing.T) {
	testnet.SkipWithoutNft(t)
	if _, err := exec.LookPath("traceroute"); err != nil {
		t.Skip("skipping: traceroute is not installed (Debian package traceroute, deps/apt/trace.list)")
	}
	topo, limited, silent := rateLimitedChain(30)
	n := testnet.Build(t, topo)
	target := n.Node("dst").Addr4()
	res := traceIn(t, n.Node("src"), traceroute.Request{Target: target, Timeout: time.Second})
	want := n.PathAddrs(4, chainNames(29)...)
	for _, r := range silent {
		want[hopOf(r)-1] = netip.Addr{}
	}
	wantHops(t, res, want)
	// Fresh limits: a limited router answers its burst, the rest of the 3
	// probes are rate-limited drops.
	fresh := func(h traceroute.Hop, answers int) bool {
		return h.Stats.Received == answers && h.Stats.RateLimited == 3-answers
	}
	checkStates(t, "fresh", res, limited, silent, fresh)
	// IPv6 (the routers limit ICMPv6 with buckets of their own).
	res6 := traceIn(t, n.Node("src"), traceroute.Request{Target: n.Node("dst").Addr6(), Timeout: time.Second})
	want6 := n.PathAddrs(6, chainNames(29)...)
	for _, r := range silent {
		want6[hopOf(r)-1] = netip.Addr{}
	}
	wantHops(t, res6, want6)
	checkStates(t, "IPv6", res6, limited, silent, fresh)

	// The system traceroute on the same path, the median of 3 runs (only
	// its time matters: our trace spent the limits just before).
	var times []time.Duration
	for range 3 {
		start := time.Now()
		out, err := n.Node("src").Command(context.Background(), "traceroute", "-n", target.String()).CombinedOutput()
		if err != nil {
			t.Fatalf("traceroute: %v\n%s", err, out)
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	ours := time.Duration(res.DurationMS * float64(time.Millisecond))
	t.Logf("dnsscience %v, traceroute %v (median of %v)", ours, times[1], times)
	if ours > 2*times[1] {
		t.Errorf("trace took %v, more than twice traceroute's %v", ours, times[1])
	}

	// traceroute just spent every limit: the limited routers answer no
	// first probe now, only the retry a second later.
	res = traceIn(t, n.Node("src"), traceroute.Request{Target: target, Timeout: time.Second, RetryPause: time.Second})
	wantHops(t, res, want)
	checkStates(t, "after traceroute", res, limited, silent, func(h traceroute.Hop, _ int) bool {
		last := h.Probes[len(h.Probes)-1]
		return last.Retry && !last.Timeout
	})
}

// checkStates wants the silent routers' hops silent, every other hop
// answered with no loss, and the limited routers' hops rate-limited with
// probes as limitedOK says (given how many of 3 probes the router answers
// with its limit full).
func checkStates(t *testing.T, when string, res *traceroute.Result, limited map[string]int, silent []string,
	limitedOK func(h traceroute.Hop, answers int) bool) {
	t.Helper()
	for _, h := range res.Hops {
		name := fmt.Sprintf("r%d", h.TTL)
		answers, isLimited := limited[name]
		switch {
		case slices.Contains(silent, name):
			if h.State != traceroute.StateSilent || h.Stats.Received != 0 {
				t.Errorf("%s, hop %d (silent router): state %q, %d answers; want silent", when, h.TTL, h.State, h.Stats.Received)
			}
		case isLimited:
			if h.State != traceroute.StateRateLimited || h.Stats.LossPct != 0 || !limitedOK(h, answers) {
				t.Errorf("%s, hop %d (limited router, %d of 3 answered when fresh): state %q, stats %+v, probes %+v; want rate_limited, no loss",
					when, h.TTL, answers, h.State, h.Stats, h.Probes)
			}
		case h.State != traceroute.StateAnswered || h.Stats.LossPct != 0 || h.Stats.Received < 3:
			t.Errorf("%s, hop %d: state %q, stats %+v; want answered 3 of 3", when, h.TTL, h.State, h.Stats)
		}
	}
}

func chainNames(routers int) []string {
	p := []string{"src"}
	for i := 1; i <= routers; i++ {
		p = append(p, fmt.Sprintf("r%d", i))
	}
	return append(p, "dst")
}

// TestRateLimitedMTR: in mtr mode a router that answers one probe a second
// shows its drops as rate-limited, not as loss, and the path beyond it shows
// no loss either; after its first drops it is probed at its own pace (each
// pause half as long again as the last gap that was too short), so fewer
// probes go to it than rounds run.
func TestRateLimitedMTR(t *testing.T) {
	testnet.SkipWithoutNft(t)
	topo := testnet.Chain(31, 3)
	topo.Spec("r2").ICMPLimit = limitOne
	n := testnet.Build(t, topo)
	const rounds = 12
	res := traceIn(t, n.Node("src"), traceroute.Request{Target: n.Node("dst").Addr4(), Rounds: rounds, Interval: 100 * time.Millisecond,
		Timeout: 150 * time.Millisecond})
	h := res.Hops[1]
	if s := h.Stats; h.State != traceroute.StateRateLimited || s.Sent >= rounds || s.Received < 1 || s.Received+s.RateLimited != s.Sent || s.LossPct != 0 {
		t.Errorf("limited hop: state %q, stats %+v; want rate_limited, fewer than %d probes sent, every unanswered one rate-limited, 0%% loss", h.State, h.Stats, rounds)
	}
	for _, h := range []traceroute.Hop{res.Hops[0], res.Hops[2], res.Hops[3]} {
		if h.State != traceroute.StateAnswered || h.Stats.Received != rounds || h.Stats.LossPct != 0 {
			t.Errorf("hop %d: state %q, stats %+v; want answered %d of %d", h.TTL, h.State, h.Stats, rounds, rounds)
		}
	}
}
