package traceroute_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/testnet"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// traceIn runs one trace from node with a fresh Tracer whose sockets live
// in node's namespace.
func traceIn(t *testing.T, node *testnet.Node, req traceroute.Request) *traceroute.Result {
	t.Helper()
	var res *traceroute.Result
	tr := &traceroute.Tracer{}
	defer tr.Close()
	err := node.Do(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var err error
		res, err = tr.Trace(ctx, req)
		return err
	})
	if err != nil {
		t.Fatalf("trace to %s: %v", req.Target, err)
	}
	return res
}

// hopAddrs returns the first address of every hop (zero for silent hops).
func hopAddrs(res *traceroute.Result) []netip.Addr {
	var out []netip.Addr
	for _, h := range res.Hops {
		var a netip.Addr
		if len(h.Addrs) > 0 {
			a = h.Addrs[0].Addr
		}
		out = append(out, a)
	}
	return out
}

func chainPath(routers int) []string {
	p := []string{"src"}
	for i := 1; i <= routers; i++ {
		p = append(p, "r"+itoa(i))
	}
	return append(p, "dst")
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func wantHops(t *testing.T, res *traceroute.Result, want []netip.Addr) {
	t.Helper()
	got := hopAddrs(res)
	if !slices.Equal(got, want) {
		t.Fatalf("hops:\n got %v\nwant %v", got, want)
	}
}

func TestEightRouterPathICMP(t *testing.T) {
	n := testnet.Build(t, testnet.Chain(10, 8))
	dst := n.Node("dst").Addr4()
	res := traceIn(t, n.Node("src"), traceroute.Request{Target: dst})
	want := n.PathAddrs(4, chainPathNames(8)...)
	wantHops(t, res, want)
	if !res.Reached || !res.Hops[8].Reached {
		t.Errorf("reached = %v, last hop reached = %v; want both true", res.Reached, res.Hops[8].Reached)
	}
	for _, h := range res.Hops {
		if h.Stats.Sent != 3 || h.Stats.Received != 3 {
			t.Errorf("hop %d: sent %d received %d, want 3 and 3", h.TTL, h.Stats.Sent, h.Stats.Received)
		}
		for _, p := range h.Probes {
			if p.ReplyTTL == 0 || p.RTT <= 0 {
				t.Errorf("hop %d: probe without reply TTL or RTT: %+v", h.TTL, p)
			}
		}
	}
	// Router k is k hops away, so its answer arrives with TTL 64-(k-1).
	if got := res.Hops[3].Probes[0].ReplyTTL; got != 61 {
		t.Errorf("hop 4 reply TTL = %d, want 61", got)
	}
	if got := res.Hops[0].Probes[0].ICMPType; got != 11 {
		t.Errorf("hop 1 ICMP type = %d, want 11 (time exceeded)", got)
	}
}

func chainPathNames(routers int) []string {
	p := []string{"src"}
	for i := 1; i <= routers; i++ {
		p = append(p, "r"+string(rune('0'+i)))
	}
	return append(p, "dst")
}
