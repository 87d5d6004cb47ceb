//go:build linux

package testnet_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/testnet"
)

func TestValidateRejectsOutsideRanges(t *testing.T) {
	testnet.Skip(t)
	bad := testnet.Topology{
		Nodes: []testnet.NodeSpec{{Name: "a"}, {Name: "b"}},
		Links: []testnet.LinkSpec{{A: "a", B: "b", Net4: netip.MustParsePrefix("192.0.2.0/24")}},
	}
	n, err := testnet.New(bad)
	if n != nil {
		n.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "10.0.0.0/8") {
		t.Fatalf("got %v, want an error naming 10.0.0.0/8", err)
	}
}

// TestICMPLimitRejectsRuleText: the limit is a rate, not nftables syntax
// that could add rules of its own.
func TestICMPLimitRejectsRuleText(t *testing.T) {
	testnet.Skip(t)
	n, err := testnet.New(testnet.Topology{Nodes: []testnet.NodeSpec{{Name: "a", ICMPLimit: "1/second drop; flush ruleset"}}})
	if n != nil {
		n.Close()
	}
	if err == nil || !strings.Contains(err.Error(), `want an nftables rate such as "1/second burst 1 packets"`) {
		t.Fatalf("got %v, want an error saying what a limit looks like", err)
	}
}

// TestICMPLimitAnswersOnePerSecond: a router limited to one time-exceeded a
// second with a burst of 1 answers the first of three probes sent at once and
// drops the other two; the router next to it answers all three.
func TestICMPLimitAnswersOnePerSecond(t *testing.T) {
	testnet.SkipWithoutNft(t)
	topo := testnet.Chain(3, 2)
	topo.Spec("r1").ICMPLimit = "1/second burst 1 packets"
	n := testnet.Build(t, topo)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := n.Node("src").Command(ctx, "traceroute", "-n", "-q3", "-w1", n.Node("dst").Addr4().String()).CombinedOutput()
	if err != nil {
		t.Skipf("skipping: traceroute (Debian package traceroute) failed: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")[1:]
	if len(lines) != 3 || strings.Count(lines[0], "*") != 2 || strings.Count(lines[1], "*") != 0 {
		t.Fatalf("want hop 1 answering one probe of three and hop 2 all three, got:\n%s", out)
	}
}

// TestChainRoutesAndCleanup builds a chain, checks the far end is reachable
// over both families (routes were computed), and that Close deletes every
// namespace.
func TestChainRoutesAndCleanup(t *testing.T) {
	testnet.Skip(t)
	n, err := testnet.New(testnet.Chain(1, 3))
	if err != nil {
		if n != nil {
			n.Close()
		}
		t.Fatal(err)
	}
	defer n.Close()
	dst := n.Node("dst")
	for _, target := range []netip.Addr{dst.Addr4(), dst.Addr6()} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		out, err := n.Node("src").Command(ctx, "traceroute", "-n", "-q1", "-w1", target.String()).CombinedOutput()
		cancel()
		if err != nil {
			t.Skipf("skipping: traceroute (Debian package traceroute) failed: %v %s", err, out)
		}
		if !strings.Contains(string(out), " "+target.String()+" ") {
			t.Errorf("traceroute to %s did not reach it:\n%s", target, out)
		}
	}
	if got, want := n.LinkAddr("r2", "r1", 4), netip.MustParseAddr("10.1.1.2"); got != want {
		t.Errorf("LinkAddr(r2, r1) = %s, want %s", got, want)
	}
	n.Close()
	for _, ns := range n.Namespaces() {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			t.Errorf("namespace %s still exists after Close", ns)
		}
	}
}

// TestSilentRouterSendsNoTimeExceeded checks the Silent and DropAll rules
// with the system traceroute.
func TestSilentRouterSendsNoTimeExceeded(t *testing.T) {
	topo := testnet.Chain(2, 2)
	topo.Spec("r1").Silent = true
	topo.Spec("dst").DropAll = true
	n := testnet.Build(t, topo)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := n.Node("src").Command(ctx, "traceroute", "-n", "-q1", "-w1", "-m4", n.Node("dst").Addr4().String()).CombinedOutput()
	if err != nil {
		t.Skipf("skipping: traceroute (Debian package traceroute) failed: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")[1:]
	want := []string{"1  *", "2  10.2.1.2", "3  *", "4  *"}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[i]), w) {
			t.Fatalf("hop %d: want %q, got output:\n%s", i+1, w, out)
		}
	}
}

func TestECMPDiamondHasMultipathRoute(t *testing.T) {
	topo := testnet.Topology{
		Nodes: []testnet.NodeSpec{{Name: "src"}, {Name: "a"}, {Name: "b1"}, {Name: "b2"}, {Name: "c"}, {Name: "dst"}},
		Links: []testnet.LinkSpec{
			{A: "src", B: "a", Net4: testnet.Net4(3, 0)},
			{A: "a", B: "b1", Net4: testnet.Net4(3, 1)},
			{A: "a", B: "b2", Net4: testnet.Net4(3, 2)},
			{A: "b1", B: "c", Net4: testnet.Net4(3, 3)},
			{A: "b2", B: "c", Net4: testnet.Net4(3, 4)},
			{A: "c", B: "dst", Net4: testnet.Net4(3, 5)},
		},
	}
	n := testnet.Build(t, topo)
	out, err := n.Node("a").Command(context.Background(), "ip", "route", "show", "10.3.5.0/24").CombinedOutput()
	if err != nil {
		t.Fatal(err, string(out))
	}
	if strings.Count(string(out), "nexthop") != 2 {
		t.Errorf("route on a to 10.3.5.0/24 is not ECMP over two next hops:\n%s", out)
	}
}

// TestSweepRemovesNamespacesOfDeadProcesses: a namespace left by a test
// process that died is deleted by the next New.
func TestSweepRemovesNamespacesOfDeadProcesses(t *testing.T) {
	testnet.Skip(t)
	pid := 4194303 // above any pid in use here
	if _, err := os.Stat("/proc/4194303"); err == nil {
		t.Skip("skipping: pid 4194303 exists")
	}
	stale := fmt.Sprintf("dstn%dx000000-src", pid)
	if out, err := exec.Command("ip", "netns", "add", stale).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	defer exec.Command("ip", "netns", "delete", stale).Run()
	testnet.Build(t, testnet.Chain(4, 1))
	if _, err := os.Stat("/run/netns/" + stale); err == nil {
		t.Errorf("stale namespace %s still exists", stale)
	}
}
