//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/testbin"
	"github.com/dnsscience/dnsscience/internal/testnet"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// runIn runs the command line inside node's namespace.
func runIn(t *testing.T, node *testnet.Node, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var code int
	err := node.Do(func() error {
		code = Run(context.Background(), append([]string{"dnsscience"}, args...), strings.NewReader(""), &stdout, &stderr)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func traceNet(t *testing.T) *testnet.Network {
	topo := testnet.Chain(30, 3)
	topo.Spec("r2").Silent = true
	return testnet.Build(t, topo)
}

func TestTraceCommandOutputs(t *testing.T) {
	n := traceNet(t)
	src, dst := n.Node("src"), n.Node("dst").Addr4().String()
	hop1, hop3 := n.LinkAddr("r1", "src", 4).String(), n.LinkAddr("r3", "r2", 4).String()

	code, out, errOut := runIn(t, src, "trace", dst, "-n")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "trace to "+dst) {
		t.Fatalf("want a header and 4 hop lines, got:\n%s", out)
	}
	for i, want := range []string{" 1  " + hop1 + "  ", " 2  * * *", " 3  " + hop3 + "  ", " 4  " + dst + "  "} {
		if !strings.HasPrefix(lines[i+1], want) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i+1], want)
		}
	}

	code, out, _ = runIn(t, src, "traceroute", dst, "-n", "--json", "--proto", "udp")
	var res traceroute.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != ExitOK {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, out)
	}
	if len(res.Hops) != 4 || !res.Reached || res.Protocol != "udp" || res.Port != 33434 || res.Hops[0].Addrs[0].Addr.String() != hop1 {
		t.Errorf("JSON result does not describe the path: %+v", res)
	}

	code, out, _ = runIn(t, src, "trace", dst, "-n", "--csv", "--rounds", "2", "--interval", "100ms")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || code != ExitOK || len(rows) != 5 {
		t.Fatalf("exit %d, CSV %v, %d rows, want header + 4:\n%s", code, err, len(rows), out)
	}
	if rows[2][1] != "" || rows[2][7] != "100" || rows[1][5] != "2" {
		t.Errorf("silent hop row %v / hop 1 row %v: want no address and 100%% loss, 2 sent", rows[2], rows[1])
	}

	code, out, _ = runIn(t, src, "trace", dst, "-n", "--rounds", "2", "--interval", "100ms")
	if code != ExitOK || !strings.Contains(out, "Loss%") || !strings.Contains(out, "100.0%") {
		t.Errorf("exit %d; mtr report lacks the loss column or the silent hop:\n%s", code, out)
	}
}

func TestTraceCommandUnreachedExitsOne(t *testing.T) {
	topo := testnet.Chain(31, 1)
	topo.Spec("dst").DropAll = true
	n := testnet.Build(t, topo)
	code, out, _ := runIn(t, n.Node("src"), "trace", n.Node("dst").Addr4().String(), "-n", "-w", "200ms")
	if code != ExitFailure {
		t.Errorf("exit %d, want 1 for a destination that never answers", code)
	}
	if got := strings.Count(out, "* * *"); got != 5 {
		t.Errorf("%d silent hop lines, want 5 (the gap):\n%s", got, out)
	}
}

// TestTraceUnprivilegedUser runs the built binary as user nobody: with ICMP
// datagram sockets allowed it traces; when ping_group_range forbids them, it
// exits 3 and says what to run.
func TestTraceUnprivilegedUser(t *testing.T) {
	testnet.Skip(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("skipping: setpriv (util-linux) is not installed")
	}
	bin := testbin.Copy(t)
	n := traceNet(t)
	src, dst := n.Node("src"), n.Node("dst").Addr4().String()
	asNobody := func(args ...string) (int, string) {
		all := append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin, "trace", dst, "-n"}, args...)
		cmd := src.Command(context.Background(), "setpriv", all...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}
	for _, proto := range []string{"icmp", "udp"} {
		code, out := asNobody("--proto", proto, "--json")
		var res traceroute.Result
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.Mode != "unprivileged" || len(res.Hops) != 4 {
			t.Errorf("%s as nobody: exit %d, want 0 with 4 hops in unprivileged mode:\n%s", proto, code, out)
		}
	}
	if err := src.Do(func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("1 0"), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	code, out := asNobody()
	if code != ExitInternal || !strings.Contains(out, "setcap cap_net_raw+ep") || !strings.Contains(out, `ping_group_range="65534 65534"`) {
		t.Errorf("ICMP without permission: exit %d, want 3 and the setcap and sysctl commands:\n%s", code, out)
	}
	// With the capability the command says, raw sockets work for nobody.
	if _, err := exec.LookPath("setcap"); err != nil {
		t.Skip("skipping the capability check: setcap (Debian package libcap2-bin) is not installed")
	}
	if out, err := exec.Command("setcap", "cap_net_raw+ep", bin).CombinedOutput(); err != nil {
		t.Skipf("skipping the capability check: setcap failed (file system without capabilities?): %v %s", err, out)
	}
	code, out = asNobody("--proto", "tcp", "--json")
	var res traceroute.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.Mode != "raw" || len(res.Hops) != 4 {
		t.Errorf("tcp as nobody with cap_net_raw: exit %d, want 0 with 4 hops in raw mode:\n%s", code, out)
	}
}

// TestTraceLiveTable: on a terminal the table is redrawn in place (cursor
// up, clear) as hops answer, and ends with the summary line.
func TestTraceLiveTable(t *testing.T) {
	n := traceNet(t)
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, isTerminal: func(io.Writer) bool { return true }}
	root := newRoot(e)
	root.SetArgs([]string{"trace", n.Node("dst").Addr4().String(), "-n", "--rounds", "2", "--interval", "100ms"})
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	if err := n.Node("src").Do(func() error { return root.ExecuteContext(context.Background()) }); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "\x1b[J") || !strings.Contains(out, "Javg") {
		t.Errorf("no in-place redraw of the table:\n%q", out)
	}
	tail := out[strings.LastIndex(out, "\x1b[J"):]
	for _, want := range []string{"???", "100.0%", n.Node("dst").Addr4().String(), "reached in 4 hops, 2 round(s)"} {
		if !strings.Contains(tail, want) {
			t.Errorf("final table lacks %q:\n%s", want, tail)
		}
	}
}

// TestTraceHostName resolves the target through the namespace's resolver:
// `ip netns exec` mounts /etc/netns/<ns>/resolv.conf, which names a DNS
// server (dnstest) listening on 127.0.0.1:53 inside the namespace.
func TestTraceHostName(t *testing.T) {
	testnet.Skip(t)
	bin := testbin.Copy(t)
	n := traceNet(t)
	src, dst := n.Node("src"), n.Node("dst")
	zone := dnstest.NewZone(t, "lab.example.", fmt.Sprintf(`
$TTL 60
@    SOA ns.lab.example. host.lab.example. 1 60 60 60 60
dst  A    %s
dst  AAAA %s
`, dst.Addr4(), dst.Addr6()))
	var srv *dnstest.Server
	if err := src.Do(func() error {
		var err error
		srv, err = dnstest.Listen("127.0.0.1", "53", zone)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := filepath.Join("/etc/netns", src.NS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(dir)
		os.Remove("/etc/netns") // only when empty
	})
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flag string
		want string
	}{{"-4", dst.Addr4().String()}, {"-6", dst.Addr6().String()}} {
		out, err := src.Command(context.Background(), bin, "trace", "dst.lab.example", "-n", tc.flag).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.flag, err, out)
		}
		if want := "trace to dst.lab.example (" + tc.want + ")"; !strings.HasPrefix(string(out), want) {
			t.Errorf("%s: output does not start with %q:\n%s", tc.flag, want, out)
		}
		if !strings.Contains(string(out), " 4  "+tc.want+"  ") {
			t.Errorf("%s: hop 4 is not %s:\n%s", tc.flag, tc.want, out)
		}
	}
}

// TestTraceJSONCarriesGeo traces a namespace path with geo data present
// (operator overrides placing the routers, an ASN file) and requires ASN and
// location per hop in --json and in the report.
func TestTraceJSONCarriesGeo(t *testing.T) {
	n := traceNet(t)
	src, dst := n.Node("src"), n.Node("dst").Addr4().String()
	dir := t.TempDir()
	overrides := filepath.Join(dir, "overrides.yaml")
	yaml := "overrides:\n" +
		"  - {cidr: 10.30.0.0/24, label: edge, city: Paris, country_code: FR, latitude: 48.86, longitude: 2.35, asn: 64501, as_org: Edge Net}\n" +
		"  - {cidr: 10.30.2.0/24, label: core, city: Frankfurt, country_code: DE, latitude: 50.11, longitude: 8.68, asn: 64502, as_org: Core Net}\n"
	if err := os.WriteFile(overrides, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runIn(t, src, "trace", dst, "-n", "--json", "--geo-data", dir, "--geo-overrides", overrides)
	var res traceroute.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != ExitOK {
		t.Fatalf("exit %d, JSON %v:\n%s%s", code, err, out, errOut)
	}
	first := res.Hops[0].Addrs[0]
	if first.ASN != 64501 || first.City != "Paris" || first.Country != "FR" || !first.Located || first.Lat != 48.86 || first.Label != "edge" {
		t.Errorf("hop 1 %+v: want AS64501 in Paris from the overrides", first)
	}
	third := res.Hops[2].Addrs[0]
	if third.ASN != 64502 || third.City != "Frankfurt" || !third.Located {
		t.Errorf("hop 3 %+v: want AS64502 in Frankfurt", third)
	}
	_, out, _ = runIn(t, src, "trace", dst, "-n", "--geo-data", dir, "--geo-overrides", overrides)
	if !strings.Contains(out, "[AS64501 Edge Net, Paris FR, edge]") {
		t.Errorf("report lacks the geo label:\n%s", out)
	}
}
