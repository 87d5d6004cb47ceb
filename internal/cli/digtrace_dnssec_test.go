package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// signedTree runs a signed delegation . → test. → example.test. with one
// knotd per zone (127.0.0.31, .32, .33 on one port), each zone signed by
// knotd and each DS made from the child's real KSK; it returns the port.
func signedTree(t *testing.T) int {
	t.Helper()
	port := dnstest.FreePort(t)
	soa := "$TTL 3600\n@ SOA ns h 1 7200 3600 1209600 300\n"
	child := dnstest.StartKnot(t, dnstest.Knot{IP: "127.0.0.33", Port: port, Sign: true, Zones: map[string]string{
		"example.test": "$ORIGIN example.test.\n" + soa + "@ NS ns\nns A 127.0.0.33\nwww A 192.0.2.80\n",
	}})
	mid := dnstest.StartKnot(t, dnstest.Knot{IP: "127.0.0.32", Port: port, Sign: true, Zones: map[string]string{
		"test": "$ORIGIN test.\n" + soa + "@ NS ns\nns A 127.0.0.32\nexample NS ns.example\nns.example A 127.0.0.33\n" + dsOf(t, child.Addr, "example.test."),
	}})
	dnstest.StartKnot(t, dnstest.Knot{IP: "127.0.0.31", Port: port, Sign: true, Zones: map[string]string{
		".": "$ORIGIN .\n" + soa + "@ NS a.root.\na.root. A 127.0.0.31\ntest. NS ns.test.\nns.test. A 127.0.0.32\n" + dsOf(t, mid.Addr, "test."),
	}})
	return port
}

// dsOf asks a signing knotd for zone's DNSKEY set and returns the DS line of
// its key-signing key.
func dsOf(t *testing.T, addr, zone string) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeDNSKEY)
	r, _, err := (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatalf("DNSKEY of %s: %v", zone, err)
	}
	for _, rr := range r.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.SEP != 0 {
			return k.ToDS(dns.SHA256).String() + "\n"
		}
	}
	t.Fatalf("no KSK for %s in %v", zone, r.Answer)
	return ""
}

// TestDigTraceDNSSEC: --trace --dnssec sets DO, so each referral shows the
// child's DS and its RRSIG, the answer its RRSIG, and each zone's DNSKEY
// set is shown; without --dnssec none of them appear.
func TestDigTraceDNSSEC(t *testing.T) {
	t.Parallel()
	port := signedTree(t)
	roots := fmt.Sprintf("127.0.0.31:%d", port)
	out, stderr, code := runCLI(t, "dig", "--trace", "--dnssec", "--roots", roots, "www.example.test", "+tries=1", "+time=2")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{
		"test.\t\t\t3600\tIN\tDS\t", "test.\t\t\t3600\tIN\tRRSIG\tDS 13 1 ",
		"example.test.\t\t3600\tIN\tDS\t", "example.test.\t\t3600\tIN\tRRSIG\tDS 13 2 ",
		"www.example.test.\t3600\tIN\tRRSIG\tA 13 3 ",
		";; DNSKEY of . from 127.0.0.31#", ";; DNSKEY of test. from 127.0.0.32#", ";; DNSKEY of example.test. from 127.0.0.33#",
		"example.test.\t\t3600\tIN\tDNSKEY\t257 3 13 ", "example.test.\t\t3600\tIN\tRRSIG\tDNSKEY 13 2 ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	plain, _, _ := runCLI(t, "dig", "--trace", "--roots", roots, "www.example.test", "+tries=1", "+time=2")
	if strings.Contains(plain, "\tDS\t") || strings.Contains(plain, "RRSIG") || strings.Contains(plain, "DNSKEY") {
		t.Errorf("without --dnssec the trace shows DNSSEC records:\n%s", plain)
	}
	js, _, _ := runCLI(t, "dig", "--trace", "+dnssec", "--roots", roots, "www.example.test", "--json")
	if !strings.Contains(js, `"type": "DS"`) || !strings.Contains(js, `"dnskey": [`) {
		t.Errorf("JSON trace lacks DS or dnskey:\n%s", js)
	}
}
