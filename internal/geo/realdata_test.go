package geo

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// realDataDir is where `make geo` puts the data, seen from this package.
const realDataDir = "../../data"

// openRealData opens the files `make geo` fetches, or skips saying why.
func openRealData(tb testing.TB) *DB {
	tb.Helper()
	cfg := DefaultConfig(realDataDir)
	for _, p := range append(append([]string{}, cfg.City...), cfg.ASN...) {
		if _, err := os.Stat(p); err != nil {
			abs, _ := filepath.Abs(p)
			tb.Skipf("real geo data not present (%s missing): run 'make geo' to fetch it through npm", abs)
		}
	}
	return mustOpen(tb, cfg)
}

// TestRealData looks up well-known public addresses in the real files
// (lookups in local files only: no traffic).
func TestRealData(t *testing.T) {
	db := openRealData(t)
	tests := []struct {
		addr    string
		country string
		asn     uint32
	}{
		{"8.8.8.8", "US", 15169},
		{"1.1.1.1", "", 13335}, // anycast: DB-IP's country for it has moved before
		{"9.9.9.9", "", 19281},
		{"2001:4860:4860::8888", "", 15169},
		{"2606:4700:4700::1111", "", 13335},
		{"193.0.14.129", "", 25152}, // k.root-servers.net, RIPE NCC
	}
	for _, tt := range tests {
		got := db.Lookup(netip.MustParseAddr(tt.addr))
		if got.ASN != tt.asn || got.ASOrg == "" {
			t.Errorf("%s: got AS%d %q, want AS%d with an organisation", tt.addr, got.ASN, got.ASOrg, tt.asn)
		}
		if got.CountryCode == "" || got.Country == "" || got.Continent == "" || !got.Located {
			t.Errorf("%s: location incomplete: %+v", tt.addr, got)
		}
		if tt.country != "" && got.CountryCode != tt.country {
			t.Errorf("%s: got country %q, want %q", tt.addr, got.CountryCode, tt.country)
		}
	}
	if got := db.Lookup(netip.MustParseAddr("10.0.0.1")); got.Special != SpecialPrivate || got.Located {
		t.Errorf("10.0.0.1 in real data: got %+v, want private and not located", got)
	}
}
