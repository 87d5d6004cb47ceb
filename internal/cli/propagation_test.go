package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// startResolvers starts stand-in resolvers on 127.0.0.21 and up, one
// handler each, all on one port, and writes a resolver file listing them.
func startResolvers(t *testing.T, handlers map[string]dns.Handler, order []string) string {
	t.Helper()
	port := ""
	var b strings.Builder
	for i, name := range order {
		ip := fmt.Sprintf("127.0.0.%d", 21+i)
		if port == "" {
			s := dnstest.StartOn(t, ip, handlers[name])
			_, port, _ = net.SplitHostPort(s.Addr)
		} else {
			s, err := dnstest.Listen(ip, port, handlers[name])
			if err != nil {
				t.Skipf("port %s busy on %s: %v", port, ip, err)
			}
			t.Cleanup(s.Close)
		}
		fmt.Fprintf(&b, "- {name: %s, operator: Test %d, ipv4: [%s], port: %s, location: {city: City%d, country: ZZ, lat: %d, lon: %d}}\n", name, i, ip, port, i, i, i)
	}
	path := filepath.Join(t.TempDir(), "resolvers.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func zoneWith(t *testing.T, addr string) dns.Handler {
	return dnstest.NewZone(t, "example.test.", "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nwww A "+addr+"\n")
}

func TestPropagationConsistent(t *testing.T) {
	names := []string{"r1", "r2", "r3"}
	file := startResolvers(t, map[string]dns.Handler{
		"r1": zoneWith(t, "192.0.2.10"), "r2": zoneWith(t, "192.0.2.10"), "r3": zoneWith(t, "192.0.2.10"),
	}, names)
	out, stderr, code := runCLI(t, "propagation", "www.example.test", "A", "--resolvers", file, "--expect", "192.0.2.10")
	if code != 0 {
		t.Fatalf("exit %d, want 0 for consistent answers\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, "Verdict: consistent (3 resolvers, 1 answer group(s), 0 failing)") {
		t.Errorf("output lacks the consistent verdict:\n%s", out)
	}
}

func TestPropagationInconsistentAndFailing(t *testing.T) {
	names := []string{"old1", "new1", "new2", "broken", "silent"}
	file := startResolvers(t, map[string]dns.Handler{
		"old1": zoneWith(t, "192.0.2.10"), "new1": zoneWith(t, "192.0.2.20"), "new2": zoneWith(t, "192.0.2.20"),
		"broken": dnstest.Rcode(dns.RcodeServerFailure), "silent": dnstest.Silent(),
	}, names)
	out, _, code := runCLI(t, "propagation", "www.example.test", "--resolvers", file, "--expect", "192.0.2.20",
		"--timeout", "200ms", "--tries", "1", "--json")
	if code != ExitFailure {
		t.Errorf("exit %d, want 1 for inconsistent answers", code)
	}
	var res dnsq.PropagationResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if res.Verdict != "inconsistent" || res.Consistent || len(res.Groups) != 2 {
		t.Fatalf("verdict %q consistent=%v groups=%d, want inconsistent with 2 groups", res.Verdict, res.Consistent, len(res.Groups))
	}
	if g := res.Groups[0]; strings.Join(g.Resolvers, ",") != "new1,new2" || g.Answers[0] != "A 192.0.2.20" {
		t.Errorf("first group %+v, want the majority new1,new2 with A 192.0.2.20", g)
	}
	if strings.Join(res.Failing, ",") != "broken,silent" {
		t.Errorf("failing %v, want [broken silent]", res.Failing)
	}
	if strings.Join(res.Missing, ",") != "old1: 192.0.2.20" {
		t.Errorf("missing %v, want [old1: 192.0.2.20]", res.Missing)
	}
	for _, r := range res.Results {
		if r.Resolver == "new1" && (r.TTL != 300 || r.Location == nil || r.Location.City != "City1" || r.Server == "") {
			t.Errorf("new1 result %+v: want TTL 300, its location and server", r)
		}
	}
}

func TestPropagationBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"propagation", "www..example"}, "empty label"},
		{[]string{"propagation", "example.test", "BOGUS"}, `unknown record type "BOGUS"`},
		{[]string{"propagation", "example.test", "--resolvers", "nosuch"}, `"nosuch" is neither a file nor a shipped resolver`},
		{[]string{"propagation", "example.test", "--transport", "quic"}, `bad --transport: "quic"; want udp, tcp, tls or https`},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d stderr %q, want exit 2 mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}
