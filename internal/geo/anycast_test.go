package geo

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// TestShippedAnycastCoversRootsAndResolvers: every root server address of
// the shipped root hints and every shipped public resolver address is in
// the anycast list, except the resolver addresses documented as unicast.
func TestShippedAnycastCoversRootsAndResolvers(t *testing.T) {
	list, err := ShippedAnycast()
	if err != nil {
		t.Fatal(err)
	}
	table := newAnycastTable(list)
	unicast := map[string]bool{"89.233.43.71": true, "2a01:3a0:53:53::": true} // unicast.uncensoreddns.org
	var addrs []string
	for _, h := range dnsq.RootHints() {
		for _, a := range h.Addrs {
			addrs = append(addrs, a.String())
		}
	}
	for _, r := range dnsq.ShippedResolvers() {
		addrs = append(append(addrs, r.IPv4...), r.IPv6...)
	}
	if len(addrs) < 60 {
		t.Fatalf("only %d addresses from the root hints and resolvers", len(addrs))
	}
	for _, s := range addrs {
		a := netip.MustParseAddr(s)
		if got := table.match(a); (got == "") != unicast[a.String()] {
			t.Errorf("%s: anycast service %q; want it listed (or documented as unicast)", s, got)
		}
	}
	for _, s := range list {
		for _, p := range s.Prefixes {
			if p != p.Masked() {
				t.Errorf("%s: prefix %s has host bits set", s.Name, p)
			}
		}
	}
}

// TestAnycastLookup: the shipped list, IANA anycast ranges and overrides
// with anycast: true set Info.Anycast; other addresses do not.
func TestAnycastLookup(t *testing.T) {
	dir := t.TempDir()
	ov := filepath.Join(dir, "overrides.yaml")
	writeString(t, ov, "overrides:\n  - {cidr: 10.53.0.0/24, label: our resolvers, anycast: true}\n  - {cidr: 10.54.0.0/24, label: plain}\n")
	db := mustOpen(t, Config{Overrides: ov})
	for _, tc := range []struct {
		addr    string
		anycast bool
		service string
	}{
		{"193.0.14.129", true, "k.root-servers.net (RIPE NCC)"},
		{"2001:7fd::1", true, "k.root-servers.net (RIPE NCC)"},
		{"1.1.1.1", true, "Cloudflare DNS (Cloudflare)"},
		{"192.175.48.1", true, ""}, // AS112 (IANA special-purpose)
		{"10.53.0.9", true, ""},
		{"10.54.0.9", false, ""},
		{"193.0.15.1", false, ""},
		{"81.2.69.142", false, ""},
	} {
		got := db.Lookup(netip.MustParseAddr(tc.addr))
		if got.Anycast != tc.anycast || got.AnycastService != tc.service {
			t.Errorf("%s: anycast %v %q, want %v %q", tc.addr, got.Anycast, got.AnycastService, tc.anycast, tc.service)
		}
	}
}
