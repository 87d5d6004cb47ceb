package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const digZone = `$TTL 3600
@       SOA ns1 hostmaster 2026112201 7200 3600 1209600 300
@       NS  ns1
ns1     A   127.0.0.1
www     A   192.0.2.10
www     AAAA 2001:db8::10
alias   CNAME www
@       MX  10 mail
mail    A   192.0.2.25
`

func startDigZone(t *testing.T) (*dnstest.Server, *dnstest.Zone) {
	z := dnstest.NewZone(t, "example.test.", digZone)
	z.Hostname = "ns1.test"
	return dnstest.Start(t, z), z
}

// TestDigGolden renders real replies with the variable parts (id, time,
// RTT) fixed and compares them with testdata/golden.
func TestDigGolden(t *testing.T) {
	s, _ := startDigZone(t)
	cases := []struct {
		file string
		q    dnsq.Query
	}{
		{"dig_mx.txt", dnsq.Query{Name: "example.test.", Type: dns.TypeMX}},
		{"dig_cname.txt", dnsq.Query{Name: "alias.example.test.", Type: dns.TypeA}},
		{"dig_nxdomain.txt", dnsq.Query{Name: "nope.example.test.", Type: dns.TypeA}},
		{"dig_nsid.txt", dnsq.Query{Name: "www.example.test.", Type: dns.TypeAAAA, NSID: true, DO: true}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			srv, _ := dnsq.ParseServer(s.Addr)
			resp, err := (&dnsq.Client{}).Exchange(context.Background(), srv, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			resp.Msg.Id = 4242
			resp.RTT = 3 * time.Millisecond
			resp.When = time.Date(2026, 11, 22, 15, 4, 5, 0, time.UTC)
			resp.Server = dnsq.Server{Transport: dnsq.UDP, Addr: "127.0.0.1:5353", Name: "127.0.0.1"}
			resp.Remote = "127.0.0.1:5353"
			var b bytes.Buffer
			renderDig(&b, resp, defaultDisplay())
			golden(t, tc.file, b.String())
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestDigShortJSONAndTypes(t *testing.T) {
	s, _ := startDigZone(t)
	out, stderr, code := runCLI(t, "dig", "@"+s.Addr, "alias.example.test", "--short")
	if code != 0 || out != "www.example.test.\n192.0.2.10\n" {
		t.Errorf("short: exit %d out %q stderr %q", code, out, stderr)
	}
	// Several types for one name: one reply each, in order.
	out, _, code = runCLI(t, "dig", "@"+s.Addr, "www.example.test", "A", "AAAA", "--json")
	var replies []dnsq.Reply
	if err := json.Unmarshal([]byte(out), &replies); err != nil || code != 0 {
		t.Fatalf("exit %d, bad JSON %v:\n%s", code, err, out)
	}
	if len(replies) != 2 || replies[0].Answer[0].Data != "192.0.2.10" || replies[1].Answer[0].Data != "2001:db8::10" {
		t.Errorf("replies %+v: want A then AAAA", replies)
	}
	r := replies[0]
	if r.Header.Rcode != "NOERROR" || r.Transport != "udp" || r.ReplySize == 0 || r.Question[0].Type != "A" || r.EDNS == nil || r.EDNS.UDPSize == 0 {
		t.Errorf("reply %+v: want NOERROR over udp with sizes, question and EDNS", r)
	}
	// CH class: hostname.bind, and NSID.
	out, _, _ = runCLI(t, "dig", "@"+s.Addr, "hostname.bind", "TXT", "CH", "+short")
	if out != "\"ns1.test\"\n" {
		t.Errorf("hostname.bind: got %q", out)
	}
	out, _, _ = runCLI(t, "dig", "@"+s.Addr, "www.example.test", "+nsid")
	if !strings.Contains(out, `; NSID: 6e 73 31 2e 74 65 73 74 ("ns1.test")`) {
		t.Errorf("+nsid output lacks the NSID line:\n%s", out)
	}
	// Reverse lookups build the PTR name.
	out, _, _ = runCLI(t, "dig", "@"+s.Addr, "-x", "192.0.2.10")
	if !strings.Contains(out, ";10.2.0.192.in-addr.arpa.\tIN\tPTR") || !strings.Contains(out, "status: REFUSED") {
		t.Errorf("-x: want the in-addr.arpa question (refused by this zone):\n%s", out)
	}
}

func TestDigTimeoutExitsOne(t *testing.T) {
	s := dnstest.Start(t, dnstest.Silent())
	out, _, code := runCLI(t, "dig", "@"+s.Addr, "www.example.test", "--timeout", "100ms", "--tries", "1")
	if code != ExitFailure || !strings.Contains(out, "no servers could be reached") {
		t.Errorf("exit %d out %q: want 1 and dig's message", code, out)
	}
	out, _, _ = runCLI(t, "dig", "@"+s.Addr, "www.example.test", "+time=1", "+tries=1", "--json")
	if !strings.Contains(out, `"error": "querying `) {
		t.Errorf("JSON lacks the error: %s", out)
	}
}

func TestDigOverDoTAndDoHWithCA(t *testing.T) {
	ca := certtest.NewCA(t, "dig test CA")
	cert := ca.Leaf(t, "127.0.0.1")
	z := dnstest.NewZone(t, "example.test.", digZone)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	dot := "@tls://" + dnstest.StartTLS(t, z, cert)
	doh := "@" + dnstest.StartDoH(t, z, cert)
	for _, args := range [][]string{
		{dot}, {doh}, {doh, "--doh-get"},
	} {
		a := append([]string{"dig", "www.example.test", "--short", "--ca", caFile}, args...)
		out, stderr, code := runCLI(t, a...)
		if code != 0 || out != "192.0.2.10\n" {
			t.Errorf("%v: exit %d out %q stderr %q", args, code, out, stderr)
		}
	}
	// Without the CA the certificate is refused.
	_, _, code := runCLI(t, "dig", "www.example.test", dot, "--tries", "1")
	if code != ExitFailure {
		t.Errorf("DoT with an unknown CA: exit %d, want 1", code)
	}
}

func TestDigBadInput(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dig", "@127.0.0.1", long + ".example"}, "is 64 bytes; a label holds at most 63"},
		{[]string{"dig", "@127.0.0.1", strings.Repeat("abcdefgh.", 30)}, "a name holds at most 255"},
		{[]string{"dig", "@127.0.0.1", "a..b"}, "empty label"},
		{[]string{"dig", "@127.0.0.1", "example.com", "-t", "BOGUS"}, `unknown type "BOGUS"`},
		{[]string{"dig", "@127.0.0.1:99999", "example.com"}, "not a number from 1 to 65535"},
		{[]string{"dig", "@ftp://x", "example.com"}, `unknown scheme "ftp"`},
		{[]string{"dig", "@1.1.1.1", "@8.8.8.8", "example.com"}, "two servers given"},
		{[]string{"dig", "@127.0.0.1", "example.com", "+frobnicate"}, "unknown option +frobnicate"},
		{[]string{"dig", "@127.0.0.1", "-x", "not-an-ip"}, "-x needs an IPv4 address"},
		{[]string{"dig", "@127.0.0.1", "example.com", "--subnet", "banana"}, "client subnet \"banana\""},
		{[]string{"dig", "--nosuchflag"}, "unknown flag"},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d stderr %q, want exit 2 mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestDigIDNConverted(t *testing.T) {
	z := dnstest.NewZone(t, "xn--bcher-kva.test.", "$TTL 60\n@ SOA ns h 1 2 3 4 5\nwww A 192.0.2.77\n")
	s := dnstest.Start(t, z)
	out, _, code := runCLI(t, "dig", "@"+s.Addr, "www.bücher.test", "--short")
	if code != 0 || out != "192.0.2.77\n" {
		t.Errorf("IDN: exit %d out %q, want the A record of www.xn--bcher-kva.test", code, out)
	}
}
