package cli

import (
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// tsigYAML is the varying part of a TSIG line: time signed, MAC, original id.
var tsigYAML = regexp.MustCompile(`TSIG hmac-sha256\. \d+ 300 32 \S+ \d+ `)

// TestDigYAMLMatchesDig compares dnsscience dig +yaml with dig +yaml against
// knotd signing its zone, for every part of dig's YAML document: signed
// records in every section, EDNS options (NSID, EXPIRE, an extended error
// with its blank line), +qr's query document (AUTH_QUERY without RD), TCP,
// and the TSIG pseudosection of a signed exchange.
func TestDigYAMLMatchesDig(t *testing.T) {
	t.Parallel()
	needDig(t)
	zone, err := os.ReadFile("testdata/multi.zone")
	if err != nil {
		t.Fatal(err)
	}
	k := dnstest.StartKnot(t, dnstest.Knot{
		Zones: map[string]string{"multi.test": string(zone)}, Sign: true, NSEC3: true, NSEC3Salt: 8, Identity: "knot-yaml",
		Keys: map[string]string{"xfr-key": "hmac-sha256:" + xfrSecret}, TransferKey: "xfr-key",
	})
	host, port, _ := net.SplitHostPort(k.Addr)
	y := "hmac-sha256:xfr-key:" + xfrSecret
	for _, args := range [][]string{
		{"multi.test", "DNSKEY", "+dnssec", "+nsid"},
		{"missing.multi.test", "A", "+dnssec"},
		{"multi.test", "NS", "+dnssec"},
		{"foo.bar", "A"},
		{"multi.test", "SOA", "+qr", "+ednsopt=expire"},
		{"multi.test", "SOA", "+qr", "+norecurse", "+noedns"},
		{"svc.multi.test", "SVCB", "+tcp"},
		{"multi.test", "SOA", "-y", y},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			want := runDigTool(t, append([]string{"@" + host, "-p", port, "+yaml", "+nocookie", "+noadflag"}, args...)...)
			got, stderr, code := runCLI(t, append([]string{"dig", "@" + k.Addr, "+yaml", "+time=5", "+tries=2"}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			norm := func(s string) string { return tsigYAML.ReplaceAllString(normalise(s), "TSIG ~ ") }
			if g, w := strings.Split(norm(got), "\n"), strings.Split(norm(want), "\n"); norm(got) != norm(want) {
				for i := range max(len(g), len(w)) {
					if i >= len(g) || i >= len(w) || g[i] != w[i] {
						t.Errorf("+yaml differs from dig's from line %d:\n got: %q\nwant: %q\n%s", i+1, g[min(i, len(g)-1):], w[min(i, len(w)-1):], got)
						break
					}
				}
			}
		})
	}
}
