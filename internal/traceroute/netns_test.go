//go:build linux

package traceroute_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
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
	if req.Timeout == 0 {
		req.Timeout = 2 * time.Second // generous: CI machines can be loaded
	}
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

func TestSilentRouterMidPath(t *testing.T) {
	topo := testnet.Chain(11, 4)
	topo.Spec("r2").Silent = true
	n := testnet.Build(t, topo)
	res := traceIn(t, n.Node("src"), traceroute.Request{Target: n.Node("dst").Addr4()})
	want := n.PathAddrs(4, chainPathNames(4)...)
	want[1] = netip.Addr{}
	wantHops(t, res, want)
	// Three probes and the slow retry, all unanswered.
	if s := res.Hops[1].Stats; s.Sent != 4 || s.Received != 0 || s.LossPct != 100 || s.RateLimited != 0 {
		t.Errorf("silent hop stats = %+v, want 4 sent (3 and the retry), 0 received, 100%% loss", s)
	}
	if st := res.Hops[1].State; st != traceroute.StateSilent {
		t.Errorf("silent hop state %q, want %q", st, traceroute.StateSilent)
	}
	for i, p := range res.Hops[1].Probes {
		if !p.Timeout || p.Retry != (i == 3) {
			t.Errorf("silent hop probe %d: %+v, want a timeout (the fourth the retry)", i, p)
		}
	}
	for _, h := range []traceroute.Hop{res.Hops[0], res.Hops[2], res.Hops[4]} {
		if h.State != traceroute.StateAnswered {
			t.Errorf("hop %d state %q, want answered", h.TTL, h.State)
		}
	}
}

// TestDestinationDropsEverything: the trace ends Gap silent hops past the
// last router that answered, about one probe timeout after it: the
// adaptive wait needs a later answer, and there is none.
func TestDestinationDropsEverything(t *testing.T) {
	topo := testnet.Chain(12, 3)
	topo.Spec("dst").DropAll = true
	n := testnet.Build(t, topo)
	const timeout = 300 * time.Millisecond
	res := traceIn(t, n.Node("src"), traceroute.Request{Target: n.Node("dst").Addr4(), Timeout: timeout})
	if d := time.Duration(res.DurationMS * float64(time.Millisecond)); d < timeout || d > timeout+200*time.Millisecond {
		t.Errorf("trace took %v, want about one timeout (%v)", d, timeout)
	}
	want := n.PathAddrs(4, "src", "r1", "r2", "r3")
	for range 5 {
		want = append(want, netip.Addr{})
	}
	wantHops(t, res, want)
	if res.Reached {
		t.Error("reached = true for a destination that drops everything")
	}
}

func TestUDPClosedPort(t *testing.T) {
	n := testnet.Build(t, testnet.Chain(13, 2))
	dst := n.Node("dst").Addr4()
	res := traceIn(t, n.Node("src"), traceroute.Request{Target: dst, Protocol: traceroute.UDP, Port: 33434})
	wantHops(t, res, n.PathAddrs(4, "src", "r1", "r2", "dst"))
	last := res.Hops[2]
	if !last.Reached || last.Flag != "" {
		t.Errorf("last hop reached=%v flag=%q, want reached and no flag", last.Reached, last.Flag)
	}
	if p := last.Probes[0]; p.ICMPType != 3 || p.ICMPCode != 3 {
		t.Errorf("last hop answer type/code %d/%d, want 3/3 (port unreachable)", p.ICMPType, p.ICMPCode)
	}
}

func TestTCPOpenAndClosedPort(t *testing.T) {
	n := testnet.Build(t, testnet.Chain(14, 2))
	dstNode := n.Node("dst")
	var ln net.Listener
	if err := dstNode.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", ":8080")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		port  uint16
		flags string
	}{{8080, "SA"}, {8081, "R"}} {
		res := traceIn(t, n.Node("src"), traceroute.Request{Target: dstNode.Addr4(), Protocol: traceroute.TCP, Port: tc.port})
		if got, want := hopAddrs(res), n.PathAddrs(4, "src", "r1", "r2", "dst"); !slices.Equal(got, want) {
			for _, h := range res.Hops {
				t.Logf("port %d hop %d: %+v", tc.port, h.TTL, h.Probes)
			}
			t.Fatalf("port %d hops:\n got %v\nwant %v", tc.port, got, want)
		}
		last := res.Hops[len(res.Hops)-1]
		if !last.Reached || last.Probes[0].TCPFlags != tc.flags {
			t.Errorf("port %d: last hop reached=%v flags=%q, want reached with %q", tc.port, last.Reached, last.Probes[0].TCPFlags, tc.flags)
		}
	}
}

func TestIPv6AllProtocols(t *testing.T) {
	topo := testnet.Chain(15, 3)
	topo.Spec("r2").Silent = true
	n := testnet.Build(t, topo)
	want := n.PathAddrs(6, "src", "r1", "r2", "r3", "dst")
	want[1] = netip.Addr{}
	for _, p := range []traceroute.Protocol{traceroute.ICMP, traceroute.UDP, traceroute.TCP} {
		t.Run(string(p), func(t *testing.T) {
			res := traceIn(t, n.Node("src"), traceroute.Request{Target: n.Node("dst").Addr6(), Protocol: p})
			wantHops(t, res, want)
			if !res.Reached {
				t.Error("destination not reached")
			}
			if got := res.Hops[0].Probes[0].ICMPType; got != 3 {
				t.Errorf("hop 1 ICMPv6 type %d, want 3 (time exceeded)", got)
			}
		})
	}
}

// TestUnprivilegedSockets forces ICMP datagram sockets and UDP with the
// error queue, as an unprivileged user gets.
func TestUnprivilegedSockets(t *testing.T) {
	topo := testnet.Chain(16, 3)
	topo.Spec("r2").Silent = true
	n := testnet.Build(t, topo)
	for _, fam := range []int{4, 6} {
		want := n.PathAddrs(fam, "src", "r1", "r2", "r3", "dst")
		want[1] = netip.Addr{}
		target := n.Node("dst").Addr4()
		if fam == 6 {
			target = n.Node("dst").Addr6()
		}
		for _, p := range []traceroute.Protocol{traceroute.ICMP, traceroute.UDP} {
			var res *traceroute.Result
			tr := &traceroute.Tracer{Unprivileged: true}
			err := n.Node("src").Do(func() error {
				var err error
				res, err = tr.Trace(context.Background(), traceroute.Request{Target: target, Protocol: p})
				return err
			})
			tr.Close()
			if err != nil {
				t.Fatalf("IPv%d %s: %v", fam, p, err)
			}
			if res.Mode != "unprivileged" {
				t.Errorf("IPv%d %s: mode %q, want unprivileged", fam, p, res.Mode)
			}
			if got := hopAddrs(res); !slices.Equal(got, want) {
				t.Errorf("IPv%d %s hops:\n got %v\nwant %v", fam, p, got, want)
			}
			if !res.Reached {
				t.Errorf("IPv%d %s: destination not reached", fam, p)
			}
		}
	}
}

// TestReverseDNSNames: hop names come from PTR records served by a DNS
// server inside the source namespace, through DNSResolver (dnsq).
func TestReverseDNSNames(t *testing.T) {
	n := testnet.Build(t, testnet.Chain(17, 2))
	src := n.Node("src")
	zone := dnstest.NewZone(t, "17.10.in-addr.arpa.", `
$TTL 60
@        SOA ns.example. host.example. 1 60 60 60 60
2.0      PTR r1.lab.example.
2.2      PTR dst.lab.example.
`)
	var srv *dnstest.Server
	if err := src.Do(func() error {
		var err error
		srv, err = dnstest.Listen("127.0.0.1", "0", zone)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// Lookups run on goroutines of their own: dial from inside the namespace.
	client := &dnsq.Client{Timeout: time.Second, Dialer: nsDialer{src}}
	res := traceIn(t, src, traceroute.Request{Target: n.Node("dst").Addr4(), Resolver: &traceroute.DNSResolver{
		Servers: []dnsq.Server{{Transport: dnsq.UDP, Addr: srv.Addr}}, Client: client,
	}})
	var names []string
	for _, h := range res.Hops {
		names = append(names, h.Addrs[0].Name)
	}
	if want := []string{"r1.lab.example", "", "dst.lab.example"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
}

// nsDialer opens connections inside a node's namespace.
type nsDialer struct{ node *testnet.Node }

func (d nsDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := d.node.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// TestContextEndsTrace: a cancelled context stops a trace at once, with
// the hops found so far.
func TestContextEndsTrace(t *testing.T) {
	topo := testnet.Chain(18, 2)
	topo.Spec("dst").DropAll = true
	n := testnet.Build(t, topo)
	tr := &traceroute.Tracer{}
	defer tr.Close()
	var res *traceroute.Result
	var err error
	_ = n.Node("src").Do(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		res, err = tr.Trace(ctx, traceroute.Request{Target: n.Node("dst").Addr4(), Timeout: 10 * time.Second})
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if res == nil || len(res.Hops) < 2 || res.Hops[0].Stats.Received != 3 {
		t.Errorf("partial result %+v, want the two routers that answered", res)
	}
}
