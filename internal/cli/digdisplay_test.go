package cli

import (
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

const displayZone = `$ORIGIN show.test.
$TTL 3600
@       SOA ns1 hostmaster 2026120201 7200 3600 1209600 300
@       NS  ns1
ns1     A   127.0.0.1
a   0       A 192.0.2.1
b   59      A 192.0.2.2
c   90061   A 192.0.2.3
d   1209600 A 192.0.2.4
e   694861  A 192.0.2.5
`

// variable lines differ from run to run (and dig's banner is its own).
var variable = regexp.MustCompile(`(?m)^(; <<>> .*|; \(1 server found\)|;; global options: .*|;; Query time: .*|;; WHEN: .*|;; ->>HEADER<<- .*|; COOKIE: .*| *(query_time|response_time|id): .*)$`)

func normalise(s string) string { return variable.ReplaceAllString(s, "~") }

// TestDigDisplayOptionsMatchDig runs dig's display options against knotd
// with dig and dnsscience and requires the same output, the lines that
// vary by run (ids, times, banner) aside.
func TestDigDisplayOptionsMatchDig(t *testing.T) {
	t.Parallel()
	needDig(t)
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"show.test": displayZone}})
	host, port, _ := net.SplitHostPort(k.Addr)
	for _, args := range [][]string{
		{"show.test", "SOA", "+noall", "+answer"},
		{"show.test", "SOA", "+nocmd", "+nostats"},
		{"show.test", "SOA", "+nocomments"},
		{"show.test", "SOA", "+noall", "+answer", "+stats"},
		{"show.test", "NS", "+noall", "+question", "+answer", "+authority", "+additional", "+comments"},
		{"show.test", "SOA", "+noall", "+answer", "+multi"},
		{"show.test", "SOA", "+multi", "+nocmd"},
		{"a.show.test", "+noall", "+answer", "+ttlunits"},
		{"b.show.test", "+noall", "+answer", "+ttlunits"},
		{"c.show.test", "+noall", "+answer", "+ttlunits"},
		{"d.show.test", "+noall", "+answer", "+ttlunits"},
		{"e.show.test", "+noall", "+answer", "+ttlunits"},
		{"show.test", "SOA", "+noall", "+answer", "+multi", "+ttlunits"},
		{"show.test", "SOA", "+qr", "+nocookie", "+noadflag"},
		{"show.test", "SOA", "+yaml", "+nocookie", "+noadflag"},
		{"c.show.test", "A", "+yaml", "+tcp", "+nocookie", "+noadflag"},
		{"nothere.show.test", "A", "+yaml", "+nocookie", "+noadflag"},
		{"elsewhere.test", "A", "+nocookie", "+noadflag"},                 // REFUSED with an extended error
		{"show.test", "SOA", "+ednsopt=expire", "+nocookie", "+noadflag"}, // EXPIRE in words
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			want := runDigTool(t, append([]string{"@" + host, "-p", port}, args...)...)
			ours := make([]string, 0, len(args))
			for _, a := range args {
				if a != "+nocookie" && a != "+noadflag" { // dnsscience sends neither by default
					ours = append(ours, a)
				}
			}
			got, stderr, code := runCLI(t, append([]string{"dig", "@" + k.Addr, "+time=5", "+tries=2"}, ours...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if normalise(got) != normalise(want) {
				t.Errorf("output differs from dig's\n got: %q\nwant: %q", normalise(got), normalise(want))
			}
		})
	}
}

// TestDigSourceAndFamily: -b sends from the given address (knotd's
// mod-whoami answers with the address it saw), like dig -b; -4/-6 refuse a
// server of the other family.
func TestDigSourceAndFamily(t *testing.T) {
	t.Parallel()
	needDig(t)
	k := dnstest.StartKnot(t, dnstest.Knot{Module: "mod-whoami", Zones: map[string]string{
		"whoami.test": "$ORIGIN whoami.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 127.0.0.1\n",
	}})
	host, port, _ := net.SplitHostPort(k.Addr)
	want := runDigTool(t, "@"+host, "-p", port, "-b", "127.0.0.9", "whoami.test", "A", "+short")
	got, stderr, code := runCLI(t, "dig", "@"+k.Addr, "-b", "127.0.0.9", "whoami.test", "A", "--short")
	if code != 0 || got != want || got != "127.0.0.9\n" {
		t.Errorf("-b: exit %d (%s) got %q, dig %q, want 127.0.0.9", code, stderr, got, want)
	}
	got, _, code = runCLI(t, "dig", "@"+k.Addr, "-4", "whoami.test", "A", "--short")
	if code != 0 || got != "127.0.0.1\n" {
		t.Errorf("-4: exit %d got %q", code, got)
	}
	for _, args := range [][]string{
		{"-6", "@" + k.Addr}, {"-4", "@[::1]:53"}, {"-4", "-6", "@" + k.Addr}, {"-b", "::1", "-4", "@" + k.Addr},
	} {
		_, stderr, code := runCLI(t, append([]string{"dig", "whoami.test"}, args...)...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d (%s), want 2", args, code, stderr)
		}
	}
}

// TestDigEDNSOptLikeDig: +ednsopt puts the same option on the wire as dig.
func TestDigEDNSOptLikeDig(t *testing.T) {
	t.Parallel()
	needDig(t)
	optOf := func(tool bool, v string) string {
		m := captureQuery(t, func(a string) {
			if tool {
				h, p, _ := net.SplitHostPort(a)
				_ = exec.Command("dig", "@"+h, "-p", p, "x.test", "+ednsopt="+v, "+nocookie", "+tries=1", "+time=1").Run()
			} else {
				runCLI(t, "dig", "@"+a, "x.test", "+ednsopt="+v, "+tries=1", "+time=1")
			}
		})
		if m == nil || m.IsEdns0() == nil {
			return "no OPT"
		}
		var out []string
		for _, o := range m.IsEdns0().Option {
			out = append(out, o.String())
		}
		return strings.Join(out, "|")
	}
	for _, v := range []string{"65001:cafe", "65002", "nsid", "12:0000"} {
		if got, want := optOf(false, v), optOf(true, v); got != want {
			t.Errorf("+ednsopt=%s: sent %q, dig sent %q", v, got, want)
		}
	}
	_, stderr, code := runCLI(t, "dig", "@127.0.0.1", "x.test", "+ednsopt=65001:xyz")
	if code != ExitUsage || !strings.Contains(stderr, "must be hex digits") {
		t.Errorf("bad +ednsopt: exit %d %q", code, stderr)
	}
}
