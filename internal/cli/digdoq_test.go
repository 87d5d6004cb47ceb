package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// TestDigOverQUIC asks a DNS-over-QUIC server (quic-go with RFC 9250's
// framing, built in dnstest; Debian's Knot 3.2 has no DoQ) by address, by a
// resolver entry with its own address, and checks the certificate.
func TestDigOverQUIC(t *testing.T) {
	t.Parallel()
	ca := certtest.NewCA(t, "doq CA")
	z := dnstest.NewZone(t, "example.test.", digZone)
	addr := dnstest.StartDoQ(t, z, ca.Leaf(t, "127.0.0.1", "doq.resolver.test"))
	_, port, _ := net.SplitHostPort(addr)
	caFile := ca.WriteCAFile(t)
	list := filepath.Join(t.TempDir(), "resolvers.yaml")
	if err := os.WriteFile(list, []byte(fmt.Sprintf("- {name: mine, ipv4: [127.0.0.1], doq: \"doq.resolver.test:%s\"}\n", port)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"@quic://" + addr, "--ca", caFile},
		{"@doq://" + addr, "+tls-ca=" + caFile, "+tls-hostname=doq.resolver.test"},
		{"@quic://mine", "--resolvers", list, "--ca", caFile},
	} {
		out, stderr, code := runCLI(t, append([]string{"dig", "www.example.test", "AAAA", "--short", "+tries=1"}, args...)...)
		if code != 0 || out != "2001:db8::10\n" {
			t.Errorf("%v: exit %d out %q stderr %q", args, code, out, stderr)
		}
	}
	full, _, code := runCLI(t, "dig", "@quic://"+addr, "www.example.test", "--ca", caFile)
	if code != 0 || !strings.Contains(full, ";; SERVER: 127.0.0.1#"+port+"(127.0.0.1) (QUIC)\n") || !strings.Contains(full, "192.0.2.10") {
		t.Errorf("exit %d:\n%s", code, full)
	}
	js, _, _ := runCLI(t, "dig", "@quic://"+addr, "www.example.test", "--ca", caFile, "--json")
	if !strings.Contains(js, `"transport": "quic"`) {
		t.Errorf("JSON lacks the transport:\n%s", js)
	}
	// Without the CA the handshake fails: exit 1.
	if _, _, code := runCLI(t, "dig", "@quic://"+addr, "www.example.test", "+tries=1"); code != ExitFailure {
		t.Errorf("unknown CA: exit %d, want 1", code)
	}
}
