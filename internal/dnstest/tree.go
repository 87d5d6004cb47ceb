package dnstest

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Tree is a small DNS delegation tree on 127.0.0.x, every server on the same
// port, for tests of iterative resolution:
//
//	.             127.0.0.10  delegates test. and net.
//	test.         127.0.0.11  delegates example.test. (two servers that disagree),
//	                          glueless.test. (NS in net., no glue), lame.test. (one lame server)
//	net.          127.0.0.14  holds ns.hoster.net.
//	example.test. 127.0.0.12 (serial 1, www 192.0.2.80), 127.0.0.13 (serial 2, www 192.0.2.81)
//	glueless.test. 127.0.0.17 (www 192.0.2.90)
//	lame.test.    127.0.0.16 (www 192.0.2.70); 127.0.0.15 answers REFUSED
type Tree struct {
	Port   int    // the port of every server
	RootIP string // the root server's address
}

const treeSOA = "$TTL 3600\n@ SOA ns hostmaster %s 7200 3600 1209600 300\n"

// StartTree starts the tree; it stops when the test ends. The test is
// skipped if another process holds the port on one of the addresses.
func StartTree(t testing.TB) *Tree {
	t.Helper()
	zones := []struct {
		ip, origin, text string
	}{
		{"127.0.0.10", ".", strings.Replace(treeSOA, "%s", "1", 1) + `
@ NS a.root.test.
a.root.test. A 127.0.0.10
test. NS ns.tld.test.
ns.tld.test. A 127.0.0.11
net. NS ns.tld.net.
ns.tld.net. A 127.0.0.14
`},
		{"127.0.0.11", "test.", strings.Replace(treeSOA, "%s", "1", 1) + `
@ NS ns.tld.test.
ns.tld.test. A 127.0.0.11
example NS ns1.example.test.
example NS ns2.example.test.
ns1.example A 127.0.0.12
ns2.example A 127.0.0.13
glueless NS ns.hoster.net.
lame NS ns1.lame.test.
lame NS ns2.lame.test.
ns1.lame A 127.0.0.15
ns2.lame A 127.0.0.16
`},
		{"127.0.0.14", "net.", strings.Replace(treeSOA, "%s", "1", 1) + `
@ NS ns.tld.net.
ns.tld.net. A 127.0.0.14
ns.hoster.net. A 127.0.0.17
`},
		{"127.0.0.12", "example.test.", strings.Replace(treeSOA, "%s", "1", 1) + `
@ NS ns1
@ NS ns2
ns1 A 127.0.0.12
ns2 A 127.0.0.13
www A 192.0.2.80
`},
		{"127.0.0.13", "example.test.", strings.Replace(treeSOA, "%s", "2", 1) + `
@ NS ns1
@ NS ns2
ns1 A 127.0.0.12
ns2 A 127.0.0.13
www A 192.0.2.81
`},
		{"127.0.0.17", "glueless.test.", strings.Replace(treeSOA, "%s", "1", 1) + `
@ NS ns.hoster.net.
www A 192.0.2.90
`},
		{"127.0.0.16", "lame.test.", strings.Replace(treeSOA, "%s", "1", 1) + `
@ NS ns1
@ NS ns2
www A 192.0.2.70
`},
	}
	first := StartOn(t, zones[0].ip, NewZone(t, zones[0].origin, zones[0].text))
	_, portStr, _ := net.SplitHostPort(first.Addr)
	port, _ := strconv.Atoi(portStr)
	for _, z := range zones[1:] {
		startAt(t, z.ip, portStr, NewZone(t, z.origin, z.text))
	}
	startAt(t, "127.0.0.15", portStr, Rcode(dns.RcodeRefused))
	return &Tree{Port: port, RootIP: "127.0.0.10"}
}

func startAt(t testing.TB, ip, port string, h dns.Handler) {
	t.Helper()
	s, err := Listen(ip, port, h)
	if err != nil {
		t.Skipf("cannot listen on %s:%s (another process holds it): %v", ip, port, err)
	}
	t.Cleanup(s.Close)
}
