package cli

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// TestDigMultiInteropWithKnot asks knotd for every type dig +multi lays out
// over lines — keys, signatures and NSEC3 from a zone knotd signs itself,
// digests, certificates and RFC 3597 data, revoked and unnamed-algorithm
// keys from the unsigned interop zone — and requires dnsscience dig +multi
// to print the records exactly as dig +multi does.
func TestDigMultiInteropWithKnot(t *testing.T) {
	zone, err := os.ReadFile("testdata/multi.zone")
	if err != nil {
		t.Fatal(err)
	}
	plain := startKnot(t)
	signed := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"multi.test": string(zone)}, Sign: true, NSEC3: true, NSEC3Salt: 8}).Addr
	cases := []struct {
		addr, name, qtype string
		want              string // a piece of dig's own output, so that the comparison is of split records
	}{
		{signed, "multi.test", "DNSKEY", "\n\t\t\t\t) ; KSK; alg = ECDSAP256SHA256 ; key id = "},
		{signed, "multi.test", "CDNSKEY", "; KSK; alg = "},
		{signed, "multi.test", "CDS", " 13 2 (\n\t\t\t\t"},
		{signed, "multi.test", "SOA", "; serial\n"},
		{signed, "multi.test", "NSEC3PARAM", "NSEC3PARAM 1 0 0 "},
		{signed, "multi.test", "TXT", "RRSIG TXT 13 2 3600 (\n\t\t\t\t"},
		{signed, "long.multi.test", "TXT", `"bbbb`},
		{signed, "_443._tcp.www.multi.test", "TLSA", "TLSA 3 1 1 (\n\t\t\t\t0123456789ABCDEF"},
		{signed, "www.multi.test", "SSHFP", "SSHFP 4 2 (\n"},
		{signed, "sub.multi.test", "DS", "DS 12345 13 2 (\n"},
		{signed, "cert.multi.test", "CERT", "CERT PGP 0 0 (\n"},
		{signed, "cert2.multi.test", "CERT", "CERT 65000 1 ECDSAP256SHA256 (\n"},
		{signed, "svc.multi.test", "SVCB", "no-default-alpn"},
		{signed, "loc.multi.test", "LOC", "LOC 52 22 23.000 N"},
		{signed, "unk.multi.test", "TYPE65300", `\# 4 ( 0A000001 )`},
		{signed, "unk2.multi.test", "TYPE65302", `\# 40 ( 0102`},
		{signed, "zm.multi.test", "ZONEMD", "ZONEMD 2026112202 1 1 (\n"},
		{signed, "sm.multi.test", "SMIMEA", "SMIMEA 3 1 1 (\n"},
		{signed, "ipk.multi.test", "IPSECKEY", "IPSECKEY ( 10 1 2 192.0.2.38\n"},
		{signed, "ipk3.multi.test", "IPSECKEY", "IPSECKEY ( 10 3 2 gw.example.test.\n"},
		{signed, "dh.multi.test", "DHCID", " ) ; 2 1 32"},
		{signed, "oa.multi.test", "OPENPGPKEY", "OPENPGPKEY ( "},
		{signed, "missing.multi.test", "A", "NSEC3 1 0 0 "},
		{plain, "keys.example.test", "DNSKEY", "; revoked KSK; alg = NSEC3RSASHA1 ; key id = "},
		{plain, "keys.example.test", "KEY", "\n\t\t\t\t); alg = ECDSAP256SHA256 ; key id = "},
		{plain, "rrsig.example.test", "RRSIG", "RRSIG A 13 2 3600 (\n\t\t\t\t20261231000000 "},
	}
	for _, c := range cases {
		t.Run(c.name+"/"+c.qtype, func(t *testing.T) {
			t.Parallel()
			host, port, _ := net.SplitHostPort(c.addr)
			args := []string{c.name, c.qtype, "+multi", "+dnssec", "+noall", "+answer", "+authority"}
			want := runDigTool(t, append([]string{"@" + host, "-p", port}, args...)...)
			if !strings.Contains(want, c.want) {
				t.Fatalf("dig +multi printed no %q (the test's premise):\n%s", c.want, want)
			}
			got, stderr, code := runCLI(t, append([]string{"dig", "@" + c.addr}, args...)...)
			if code != 0 {
				t.Fatalf("dnsscience dig exit %d: %s", code, stderr)
			}
			if got != want {
				t.Errorf("+multi differs from dig +multi\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
