package cli

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// startCornerKnot serves testdata/corners.zone (escaped names, RFC 3597
// types, LOC, long owners, a truncating RRset) with Debian's knotd.
func startCornerKnot(t *testing.T) (addr, host, port string) {
	t.Helper()
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig not installed (Debian package dnsutils; `make deps` installs it)")
	}
	zone, err := os.ReadFile("testdata/corners.zone")
	if err != nil {
		t.Fatal(err)
	}
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"corner.test": string(zone)}})
	host, port, _ = net.SplitHostPort(k.Addr)
	return k.Addr, host, port
}

// sectionLine returns the first line after ";; NAME SECTION:".
func sectionLine(out, name string) string {
	_, after, ok := strings.Cut(out, ";; "+name+" SECTION:\n")
	if !ok {
		return ""
	}
	l, _, _ := strings.Cut(after, "\n")
	return l
}

// TestDigCornersMatchDig asks knotd for escaped names, unknown types, LOC
// and long owners with dig and dnsscience and requires the same question
// line, records and short form.
func TestDigCornersMatchDig(t *testing.T) {
	t.Parallel()
	addr, host, port := startCornerKnot(t)
	for _, q := range [][]string{
		{`a\032b.corner.test`, "A"}, {`\105nside.corner.test`, "A"}, {`q\"uo\$te\'x.corner.test`, "A"},
		{"cn.corner.test", "CNAME"}, {"mx.corner.test", "MX"},
		{"unk.corner.test", "TYPE65400"}, {"unk2.corner.test", "TYPE65401"}, {"empty.corner.test", "TYPE65402"},
		{"loc.corner.test", "LOC"}, {"loc2.corner.test", "LOC"}, {"loc3.corner.test", "LOC"},
		{"averyveryveryverylongownername.corner.test", "A"}, {"abcdefghijklmnopqrstu.corner.test", "A"},
		{"abcdefghijklmnopqrs.corner.test", "TYPE65403"}, {"corner.test", "SOA", "-c", "ANY"},
		{"-x", "10.1"}, {"-x", "::ffff:1.2.3.4"}, {"-x", "192.0.2.1"},
	} {
		t.Run(strings.Join(q, " "), func(t *testing.T) {
			t.Parallel()
			want := runDigTool(t, append([]string{"@" + host, "-p", port}, q...)...)
			got, stderr, code := runCLI(t, append([]string{"dig", "@" + addr}, q...)...)
			if code != 0 && q[0] != "-x" {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if g, w := sectionLine(got, "QUESTION"), sectionLine(want, "QUESTION"); g != w || w == "" {
				t.Errorf("question line\n got: %q\nwant: %q", g, w)
			}
			if g, w := recordLines(got), recordLines(want); g != w {
				t.Errorf("records\n got: %q\nwant: %q", g, w)
			}
			short, _, _ := runCLI(t, append([]string{"dig", "@" + addr, "--short"}, q...)...)
			if w := runDigTool(t, append([]string{"@" + host, "-p", port, "+short"}, q...)...); short != w {
				t.Errorf("--short\n got: %q\nwant: %q", short, w)
			}
		})
	}
}

// TestDigUnknownTypeJSON: RFC 3597 data is "\# len hex" in JSON too.
func TestDigUnknownTypeJSON(t *testing.T) {
	t.Parallel()
	addr, _, _ := startCornerKnot(t)
	out, _, code := runCLI(t, "dig", "@"+addr, "unk.corner.test", "TYPE65400", "--json")
	if code != 0 || !strings.Contains(out, `"data": "\\# 4 01020304"`) || !strings.Contains(out, `"type": "TYPE65400"`) {
		t.Errorf("exit %d, JSON lacks the RFC 3597 form:\n%s", code, out)
	}
	out, _, _ = runCLI(t, "dig", "@"+addr, `a\032b.corner.test`, "--json")
	if !strings.Contains(out, `"name": "a\\032b.corner.test."`) || !strings.Contains(out, `"data": "192.0.2.1"`) {
		t.Errorf("escaped name not answered or not in BIND form:\n%s", out)
	}
}

// TestDigTruncationAndANYLikeDig: the truncation notice comes first, as in
// dig, and ANY goes over TCP unless +notcp.
func TestDigTruncationAndANYLikeDig(t *testing.T) {
	t.Parallel()
	addr, host, port := startCornerKnot(t)
	want := runDigTool(t, "@"+host, "-p", port, "big.corner.test", "TXT", "+noedns")
	got, _, _ := runCLI(t, "dig", "@"+addr, "big.corner.test", "TXT", "+noedns")
	first := func(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
	if first(got) != first(want) || first(want) != ";; Truncated, retrying in TCP mode." {
		t.Errorf("first line %q, dig's %q", first(got), first(want))
	}
	if recordLines(got) != recordLines(want) || strings.Count(recordLines(got), "\n") != 40 {
		t.Errorf("records after TCP retry differ from dig's:\n%s", got)
	}
	transport := func(out string) string {
		_, after, _ := strings.Cut(out, ";; SERVER: ")
		l, _, _ := strings.Cut(after, "\n")
		return l[strings.LastIndex(l, " ")+1:]
	}
	for _, extra := range [][]string{nil, {"+notcp"}} {
		want := runDigTool(t, append([]string{"@" + host, "-p", port, "corner.test", "ANY"}, extra...)...)
		got, _, _ := runCLI(t, append([]string{"dig", "@" + addr, "corner.test", "ANY"}, extra...)...)
		if transport(got) != transport(want) {
			t.Errorf("ANY %v: transport %s, dig used %s", extra, transport(got), transport(want))
		}
	}
}

// captureQuery returns the first query a command sends to a UDP socket.
func captureQuery(t *testing.T, send func(addr string)) *dns.Msg {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second)) // a sender that sends nothing fails the test, not hangs it
	got := make(chan *dns.Msg, 1)
	go func() {
		buf := make([]byte, 4096)
		n, from, err := pc.ReadFrom(buf)
		m := new(dns.Msg)
		if err != nil || m.Unpack(buf[:n]) != nil {
			got <- nil
			return
		}
		got <- m
		r := new(dns.Msg) // answer, so that the sender does not wait for its timeout
		r.SetReply(m)
		r.SetEdns0(1232, false)
		if b, err := r.Pack(); err == nil {
			_, _ = pc.WriteTo(b, from)
		}
	}()
	send(pc.LocalAddr().String())
	return <-got
}

func subnetOf(m *dns.Msg) string {
	if m == nil || m.IsEdns0() == nil {
		return "no OPT"
	}
	for _, o := range m.IsEdns0().Option {
		if s, ok := o.(*dns.EDNS0_SUBNET); ok {
			return s.String() + " family " + string(rune('0'+s.Family))
		}
	}
	return "no ECS"
}

// TestDigSubnetLikeDig compares the client-subnet option dig and dnsscience
// put on the wire for +subnet=0 and partial prefixes.
func TestDigSubnetLikeDig(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig not installed (Debian package dnsutils)")
	}
	for _, v := range []string{"0", "0/0", "10.1/16", "192.0.2.77/24", "2001:db8:1::/48", "::/0"} {
		want := captureQuery(t, func(addr string) {
			host, port, _ := net.SplitHostPort(addr)
			_ = exec.Command("dig", "@"+host, "-p", port, "x.test", "+subnet="+v, "+tries=1", "+time=1").Run()
		})
		got := captureQuery(t, func(addr string) {
			runCLI(t, "dig", "@"+addr, "x.test", "+subnet="+v, "+tries=1", "+time=1")
		})
		if subnetOf(got) != subnetOf(want) || subnetOf(want) == "no ECS" {
			t.Errorf("+subnet=%s: sent %s, dig sent %s", v, subnetOf(got), subnetOf(want))
		}
	}
}

// TestDigFormerrRetriedWithoutEDNS: a server from before EDNS answers
// FORMERR; the query is sent again without OPT and answered.
func TestDigFormerrRetriedWithoutEDNS(t *testing.T) {
	t.Parallel()
	z := dnstest.NewZone(t, "example.test.", digZone)
	s := dnstest.Start(t, dnstest.NoEDNS(z))
	srv, _ := dnsq.ParseServer(s.Addr)
	resp, err := (&dnsq.Client{}).Exchange(context.Background(), srv, dnsq.Query{Name: "www.example.test.", Type: dns.TypeA})
	if err != nil || !resp.NoEDNSRetry || resp.Msg.Rcode != dns.RcodeSuccess || len(resp.Msg.Answer) != 1 {
		t.Fatalf("err %v resp %+v: want the answer from the retry without EDNS", err, resp)
	}
	out, _, code := runCLI(t, "dig", "@"+s.Addr, "www.example.test")
	if code != 0 || !strings.Contains(out, "FORMERR - retried with '+noedns'") || !strings.Contains(out, "192.0.2.10") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestDigDoHServerLine: the SERVER line names the address connected to,
// as dig's does for +https, not the URL.
func TestDigDoHServerLine(t *testing.T) {
	t.Parallel()
	ca := certtest.NewCA(t, "doh CA")
	z := dnstest.NewZone(t, "example.test.", digZone)
	url := dnstest.StartDoH(t, z, ca.Leaf(t, "127.0.0.1"))
	out, stderr, code := runCLI(t, "dig", "@"+url, "www.example.test", "--ca", ca.WriteCAFile(t))
	port := strings.TrimSuffix(strings.TrimPrefix(url, "https://127.0.0.1:"), "/dns-query")
	want := ";; SERVER: 127.0.0.1#" + port + "(127.0.0.1) (HTTPS)\n"
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d (%s), want %q in:\n%s", code, stderr, want, out)
	}
}

// TestDigRefusesCornerInput: TYPE0, an unbalanced bracket and resolver
// files with a bad port or endpoint are usage errors.
func TestDigRefusesCornerInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := map[string]string{
		"port.yaml": "- {name: local, ipv4: [127.0.0.1], port: 99999}\n",
		"dot.yaml":  "- {name: local, ipv4: [127.0.0.1], dot: \"[::1\"}\n",
		"doh.yaml":  "- {name: local, ipv4: [127.0.0.1], doh: \"ftp://x\"}\n",
	}
	for f, text := range bad {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dig", "@127.0.0.1", "example.test", "TYPE0"}, "type 0 (TYPE0) is reserved"},
		{[]string{"dig", "@127.0.0.1", "example.test", "-t", "TYPE0"}, `unknown type "TYPE0"`},
		{[]string{"dig", "@[::1", "example.test"}, "unbalanced bracket"},
		{[]string{"dig", "@[::1]:99999", "example.test"}, "not a number from 1 to 65535"},
		{[]string{"dig", "@local", "example.test", "--resolvers", filepath.Join(dir, "port.yaml")}, "port 99999 is not from 1 to 65535"},
		{[]string{"dig", "@local", "example.test", "--resolvers", filepath.Join(dir, "dot.yaml")}, "unbalanced bracket"},
		{[]string{"dig", "@local", "example.test", "--resolvers", filepath.Join(dir, "doh.yaml")}, `unknown scheme "ftp"`},
		{[]string{"dig", "@127.0.0.1", "-x", "10.1.2.3.4"}, "-x needs an IPv4 address"},
		{[]string{"dig", "@127.0.0.1", "x.test", "+subnet=10.1"}, `client subnet "10.1"`},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d stderr %q, want exit 2 mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}
