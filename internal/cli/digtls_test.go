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

// TestDigTLSNames: a named DoT/DoH resolver is verified against its TLS
// name and reached at its listed address; kdig's +tls-hostname= and
// +tls-ca= name the certificate when connecting by address.
func TestDigTLSNames(t *testing.T) {
	t.Parallel()
	ca := certtest.NewCA(t, "tls names CA")
	cert := ca.Leaf(t, "dns.resolver.test")
	z := dnstest.NewZone(t, "example.test.", digZone)
	dot := dnstest.StartTLS(t, z, cert)
	_, dotPort, _ := net.SplitHostPort(dot)
	doh := strings.Replace(dnstest.StartDoH(t, z, cert), "127.0.0.1", "dns.resolver.test", 1)
	dir := t.TempDir()
	list := filepath.Join(dir, "resolvers.yaml")
	entry := fmt.Sprintf("- {name: mine, ipv4: [127.0.0.1], dot: \"dns.resolver.test:%s\", doh: %q}\n", dotPort, doh)
	if err := os.WriteFile(list, []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	caFile := ca.WriteCAFile(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"@tls://mine", "--resolvers", list, "--ca", caFile}, 0},
		{[]string{"@https://mine", "--resolvers", list, "--ca", caFile}, 0},
		{[]string{"@tls://" + dot, "+tls-hostname=dns.resolver.test", "+tls-ca=" + caFile}, 0},
		{[]string{"@tls://" + dot, "+tls-ca=" + caFile}, ExitFailure}, // the certificate does not name 127.0.0.1
		{[]string{"@tls://" + dot, "+tls-hostname=other.test", "+tls-ca=" + caFile}, ExitFailure},
	} {
		out, stderr, code := runCLI(t, append([]string{"dig", "www.example.test", "--short", "+tries=1"}, tc.args...)...)
		if code != tc.code || (code == 0 && out != "192.0.2.10\n") {
			t.Errorf("%v: exit %d out %q stderr %q, want exit %d", tc.args, code, out, stderr, tc.code)
		}
	}
}
