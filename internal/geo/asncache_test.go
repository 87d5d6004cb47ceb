package geo

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const cacheCSV = `1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."
8.8.8.0,8.8.8.255,15169,Google LLC
81.2.69.0,81.2.69.255,64500,Example Transit
2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC
`

func TestASNCacheRoundTripAndInvalidation(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "asn.csv")
	if err := os.WriteFile(csv, []byte(cacheCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	first, err := Open(Config{ASN: []string{csv}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(asnCachePath(csv)); err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	st, _ := os.Stat(csv)
	cached, err := loadASNCache(csv, st)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cached, first.snap.Load().asns[0].table) {
		t.Error("table loaded from the cache differs from the one parsed from the CSV")
	}
	second, _ := Open(Config{ASN: []string{csv}})
	for _, a := range []string{"1.0.0.7", "8.8.8.8", "81.2.69.1", "2001:4860::8888", "9.9.9.9"} {
		x, y := first.Lookup(netip.MustParseAddr(a)), second.Lookup(netip.MustParseAddr(a))
		if x.ASN != y.ASN || x.ASOrg != y.ASOrg {
			t.Errorf("%s: parsed %d %q, cached %d %q", a, x.ASN, x.ASOrg, y.ASN, y.ASOrg)
		}
	}
	if got := second.Lookup(netip.MustParseAddr("1.0.0.7")); got.ASOrg != "Cloudflare, Inc." {
		t.Errorf("cached lookup %+v", got)
	}
	// A changed CSV makes the cache stale: the new data answers.
	if err := os.WriteFile(csv, []byte(strings.Replace(cacheCSV, "64500", "64511", 1)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, _ := Open(Config{ASN: []string{csv}})
	if got := third.Lookup(netip.MustParseAddr("81.2.69.1")); got.ASN != 64511 {
		t.Errorf("after the CSV changed: AS%d, want AS64511", got.ASN)
	}
	// A damaged cache is ignored.
	st, _ = os.Stat(csv)
	if err := os.WriteFile(asnCachePath(csv), []byte(asnCacheMagic+"garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadASNCache(csv, st); err == nil {
		t.Error("a damaged cache loaded")
	}
	fourth, _ := Open(Config{ASN: []string{csv}})
	if got := fourth.Lookup(netip.MustParseAddr("8.8.8.8")); got.ASN != 15169 {
		t.Errorf("with a damaged cache: %+v", got)
	}
}
