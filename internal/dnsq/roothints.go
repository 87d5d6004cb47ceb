package dnsq

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/miekg/dns"
)

// rootHints is the IANA root hints (named.root): the 13 root server names
// with their IPv4 and IPv6 addresses. Tests override the roots with
// loopback servers; nothing here is contacted by a test.
const rootHints = `
.                        3600000      NS    A.ROOT-SERVERS.NET.
A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
.                        3600000      NS    B.ROOT-SERVERS.NET.
B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2
B.ROOT-SERVERS.NET.      3600000      AAAA  2801:1b8:10::b
.                        3600000      NS    C.ROOT-SERVERS.NET.
C.ROOT-SERVERS.NET.      3600000      A     192.33.4.12
C.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2::c
.                        3600000      NS    D.ROOT-SERVERS.NET.
D.ROOT-SERVERS.NET.      3600000      A     199.7.91.13
D.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2d::d
.                        3600000      NS    E.ROOT-SERVERS.NET.
E.ROOT-SERVERS.NET.      3600000      A     192.203.230.10
E.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:a8::e
.                        3600000      NS    F.ROOT-SERVERS.NET.
F.ROOT-SERVERS.NET.      3600000      A     192.5.5.241
F.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2f::f
.                        3600000      NS    G.ROOT-SERVERS.NET.
G.ROOT-SERVERS.NET.      3600000      A     192.112.36.4
G.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:12::d0d
.                        3600000      NS    H.ROOT-SERVERS.NET.
H.ROOT-SERVERS.NET.      3600000      A     198.97.190.53
H.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:1::53
.                        3600000      NS    I.ROOT-SERVERS.NET.
I.ROOT-SERVERS.NET.      3600000      A     192.36.148.17
I.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fe::53
.                        3600000      NS    J.ROOT-SERVERS.NET.
J.ROOT-SERVERS.NET.      3600000      A     192.58.128.30
J.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:c27::2:30
.                        3600000      NS    K.ROOT-SERVERS.NET.
K.ROOT-SERVERS.NET.      3600000      A     193.0.14.129
K.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fd::1
.                        3600000      NS    L.ROOT-SERVERS.NET.
L.ROOT-SERVERS.NET.      3600000      A     199.7.83.42
L.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:9f::42
.                        3600000      NS    M.ROOT-SERVERS.NET.
M.ROOT-SERVERS.NET.      3600000      A     202.12.27.33
M.ROOT-SERVERS.NET.      3600000      AAAA  2001:dc3::35
`

// NSHost is a name server: its name and the addresses known for it.
type NSHost struct {
	Name  string       `json:"name"`
	Addrs []netip.Addr `json:"addrs,omitempty"`
}

// RootHints returns the shipped root servers.
func RootHints() []NSHost {
	hosts, err := parseHints(rootHints, "shipped root hints")
	if err != nil {
		panic(err) // the constant is checked by tests
	}
	return hosts
}

// LoadRootHints reads a root hints file in named.root format.
func LoadRootHints(path string) ([]NSHost, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading root hints: %w", err)
	}
	return parseHints(string(b), path)
}

func parseHints(text, src string) ([]NSHost, error) {
	zp := dns.NewZoneParser(strings.NewReader(text), ".", src)
	var order []string
	addrs := map[string][]netip.Addr{}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch v := rr.(type) {
		case *dns.NS:
			order = append(order, dns.CanonicalName(v.Ns))
		case *dns.A:
			a, _ := netip.AddrFromSlice(v.A.To4())
			addrs[dns.CanonicalName(v.Hdr.Name)] = append(addrs[dns.CanonicalName(v.Hdr.Name)], a)
		case *dns.AAAA:
			a, _ := netip.AddrFromSlice(v.AAAA)
			addrs[dns.CanonicalName(v.Hdr.Name)] = append(addrs[dns.CanonicalName(v.Hdr.Name)], a)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("parsing root hints %s: %w", src, err)
	}
	var hosts []NSHost
	for _, n := range order {
		hosts = append(hosts, NSHost{Name: n, Addrs: addrs[n]})
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("root hints %s list no NS records", src)
	}
	return hosts, nil
}
