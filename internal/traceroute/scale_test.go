//go:build linux

package traceroute_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/testnet"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

func diamond() testnet.Topology {
	return testnet.Topology{
		Nodes: []testnet.NodeSpec{{Name: "src"}, {Name: "a"}, {Name: "b1"}, {Name: "b2"}, {Name: "c"}, {Name: "dst"}},
		Links: []testnet.LinkSpec{
			{A: "src", B: "a", Net4: testnet.Net4(20, 0), Net6: testnet.Net6(20, 0)},
			{A: "a", B: "b1", Net4: testnet.Net4(20, 1), Net6: testnet.Net6(20, 1)},
			{A: "a", B: "b2", Net4: testnet.Net4(20, 2), Net6: testnet.Net6(20, 2)},
			{A: "b1", B: "c", Net4: testnet.Net4(20, 3), Net6: testnet.Net6(20, 3)},
			{A: "b2", B: "c", Net4: testnet.Net4(20, 4), Net6: testnet.Net6(20, 4)},
			{A: "c", B: "dst", Net4: testnet.Net4(20, 5), Net6: testnet.Net6(20, 5)},
		},
	}
}

// TestECMPDiamond: one flow keeps to one branch for every probe; 16 flows
// (UDP and TCP, IPv4 and IPv6) find both branches at hop 2.
func TestECMPDiamond(t *testing.T) {
	n := testnet.Build(t, diamond())
	target := n.Node("dst").Addr4()
	b2 := n.LinkAddr("b2", "a", 4)
	for _, p := range []traceroute.Protocol{traceroute.UDP, traceroute.TCP, traceroute.ICMP} {
		res := traceIn(t, n.Node("src"), traceroute.Request{Target: target, Protocol: p, Queries: 10})
		if len(res.Hops) != 4 {
			t.Fatalf("%s: %d hops, want 4", p, len(res.Hops))
		}
		for _, h := range res.Hops {
			if len(h.Addrs) != 1 {
				t.Errorf("%s hop %d: one flow answered from %v, want one address", p, h.TTL, h.Addrs)
			}
		}
		// The branch at hop 2 and the interface of c at hop 3 agree.
		mid, next := res.Hops[1].Addrs[0].Addr, res.Hops[2].Addrs[0].Addr
		want := n.LinkAddr("c", "b1", 4)
		if mid == b2 {
			want = n.LinkAddr("c", "b2", 4)
		}
		if next != want {
			t.Errorf("%s: hop 2 %s then hop 3 %s, want %s (same branch)", p, mid, next, want)
		}
	}
	for _, fam := range []int{4, 6} {
		target, b1, b2 := n.Node("dst").Addr4(), n.LinkAddr("b1", "a", fam), n.LinkAddr("b2", "a", fam)
		if fam == 6 {
			target = n.Node("dst").Addr6()
		}
		for _, p := range []traceroute.Protocol{traceroute.UDP, traceroute.TCP} {
			res := traceIn(t, n.Node("src"), traceroute.Request{Target: target, Protocol: p, Flows: 16, Queries: 1})
			var seen []netip.Addr
			flows := 0
			for _, a := range res.Hops[1].Addrs {
				seen = append(seen, a.Addr)
				flows += len(a.Flows)
			}
			slices.SortFunc(seen, netip.Addr.Compare)
			if !slices.Equal(seen, []netip.Addr{b1, b2}) {
				t.Errorf("IPv%d %s: 16 flows saw %v at hop 2, want both branches %s and %s", fam, p, seen, b1, b2)
			}
			if flows != 16 {
				t.Errorf("IPv%d %s: hop 2 addresses list %d flows, want 16", fam, p, flows)
			}
		}
	}
}

// TestConcurrentTracesAttributed runs 50 traces at once through one Tracer
// to 50 destinations behind five branches of different lengths; every hop
// must belong to its own trace's path.
// fanout describes src - r1 - hub, then five branches of 1 to 5 routers,
// each ending in a node with perDest extra addresses (10.22.<branch>.<i>).
// It returns the topology and the node path to every extra address.
func fanout(perDest int) (testnet.Topology, map[netip.Addr][]string) {
	topo := testnet.Topology{
		Nodes: []testnet.NodeSpec{{Name: "src"}, {Name: "r1"}, {Name: "hub"}},
		Links: []testnet.LinkSpec{
			{A: "src", B: "r1", Net4: testnet.Net4(21, 0)},
			{A: "r1", B: "hub", Net4: testnet.Net4(21, 1)},
		},
	}
	paths := map[netip.Addr][]string{}
	sub := byte(2)
	for k := 1; k <= 5; k++ {
		prev, path := "hub", []string{"src", "r1", "hub"}
		for j := 1; j <= k; j++ {
			name := fmt.Sprintf("b%d%d", k, j)
			topo.Nodes = append(topo.Nodes, testnet.NodeSpec{Name: name})
			topo.Links = append(topo.Links, testnet.LinkSpec{A: prev, B: name, Net4: testnet.Net4(21, sub)})
			sub++
			prev, path = name, append(path, name)
		}
		d := fmt.Sprintf("d%d", k)
		spec := testnet.NodeSpec{Name: d}
		for i := 1; i <= perDest; i++ {
			a := netip.AddrFrom4([4]byte{10, 22, byte(k), byte(i)})
			spec.Extra = append(spec.Extra, a)
			paths[a] = append(slices.Clone(path), d)
		}
		topo.Nodes = append(topo.Nodes, spec)
		topo.Links = append(topo.Links, testnet.LinkSpec{A: prev, B: d, Net4: testnet.Net4(21, sub)})
		sub++
	}
	return topo, paths
}

// traceAll runs one trace per target at once through tr (ICMP, UDP and TCP
// in turn) and returns a description of every wrongly attributed hop.
func traceAll(n *testnet.Network, tr *traceroute.Tracer, paths map[netip.Addr][]string) []string {
	protos := []traceroute.Protocol{traceroute.ICMP, traceroute.UDP, traceroute.TCP}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	i := 0
	for target, path := range paths {
		proto := protos[i%3]
		i++
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res *traceroute.Result
			err := n.Node("src").Do(func() error {
				var err error
				res, err = tr.Trace(context.Background(), traceroute.Request{Target: target, Protocol: proto})
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %v", proto, target, err))
				return
			}
			want := n.PathAddrs(4, path...)
			want[len(want)-1] = target
			if got := hopAddrs(res); !slices.Equal(got, want) {
				problems = append(problems, fmt.Sprintf("%s %s hops:\n got %v\nwant %v", proto, target, got, want))
			}
			for _, h := range res.Hops {
				if len(h.Addrs) != 1 || h.Stats.Received != 3 {
					problems = append(problems, fmt.Sprintf("%s %s hop %d: addrs %v, %d answers; want one address, 3 answers", proto, target, h.TTL, h.Addrs, h.Stats.Received))
				}
			}
		}()
	}
	wg.Wait()
	return problems
}

// TestConcurrentTracesAttributed runs 50 traces at once through one Tracer
// to 50 destinations behind five branches of different lengths; every hop
// must belong to its own trace's path.
func TestConcurrentTracesAttributed(t *testing.T) {
	topo, paths := fanout(10)
	n := testnet.Build(t, topo)
	tr := &traceroute.Tracer{}
	defer tr.Close()
	for _, p := range traceAll(n, tr, paths) {
		t.Error(p)
	}
}

// BenchmarkConcurrent100Traces runs 100 traces at once (ICMP, UDP, TCP to
// 100 destinations, 3 to 8 hops) through one Tracer, checks every hop, and
// reports the process CPU time per 100 traces and the peak RSS.
func BenchmarkConcurrent100Traces(b *testing.B) {
	topo, paths := fanout(20)
	n := testnet.Build(b, topo)
	tr := &traceroute.Tracer{}
	defer tr.Close()
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		if problems := traceAll(n, tr, paths); len(problems) > 0 {
			b.Fatalf("%d problems, first: %s", len(problems), problems[0])
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(cpu.Microseconds())/1000, "cpu-ms/op")
	b.ReportMetric(float64(after.Maxrss)/1024, "peak-rss-MB")
}

// TestInteropWithSystemTraceroute: in the same topology the hop list equals
// what `traceroute -n` prints (UDP, and -I for ICMP).
func TestInteropWithSystemTraceroute(t *testing.T) {
	if _, err := exec.LookPath("traceroute"); err != nil {
		t.Skip("skipping: traceroute is not installed (Debian package traceroute, deps/apt/trace.list)")
	}
	topo := testnet.Chain(23, 5)
	topo.Spec("r3").Silent = true
	n := testnet.Build(t, topo)
	for _, tc := range []struct {
		proto traceroute.Protocol
		v6    bool
		flags []string
	}{
		{traceroute.UDP, false, nil},
		{traceroute.ICMP, false, []string{"-I"}},
		{traceroute.TCP, false, []string{"-T", "-p", "80"}},
		{traceroute.UDP, true, []string{"-6"}},
		{traceroute.ICMP, true, []string{"-6", "-I"}},
	} {
		target := n.Node("dst").Addr4()
		if tc.v6 {
			target = n.Node("dst").Addr6()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		args := append([]string{"-n", "-q", "3", "-w", "1"}, tc.flags...)
		out, err := n.Node("src").Command(ctx, "traceroute", append(args, target.String())...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("traceroute: %v\n%s", err, out)
		}
		want := parseTraceroute(t, string(out))
		res := traceIn(t, n.Node("src"), traceroute.Request{Target: target, Protocol: tc.proto})
		if got := hopAddrs(res); !slices.Equal(got, want) {
			t.Errorf("%s %v: dnsscience hops %v, traceroute -n %v\n%s", tc.proto, tc.flags, got, want, out)
		}
	}
}

// parseTraceroute reads the first address of each hop line of
// `traceroute -n` output (the zero Addr for "* * *").
func parseTraceroute(t *testing.T, out string) []netip.Addr {
	t.Helper()
	var hops []netip.Addr
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		var a netip.Addr
		for _, f := range strings.Fields(line)[1:] {
			if p, err := netip.ParseAddr(f); err == nil {
				a = p
				break
			}
		}
		hops = append(hops, a)
	}
	return hops
}

// BenchmarkTraceSixHops is one ICMP trace over a 6-hop path where every hop
// answers: the engine's own cost per trace, without process start-up.
func BenchmarkTraceSixHops(b *testing.B) {
	n := testnet.Build(b, testnet.Chain(24, 5))
	target := n.Node("dst").Addr4()
	tr := &traceroute.Tracer{}
	defer tr.Close()
	err := n.Node("src").Do(func() error {
		for b.Loop() {
			res, err := tr.Trace(context.Background(), traceroute.Request{Target: target})
			if err != nil {
				return err
			}
			if !res.Reached || len(res.Hops) != 6 {
				return fmt.Errorf("reached %v in %d hops, want 6", res.Reached, len(res.Hops))
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
