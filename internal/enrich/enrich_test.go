package enrich

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/geo/geotest"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

func testDB(t testing.TB) *geo.DB {
	dir := t.TempDir()
	city := filepath.Join(dir, "city.mmdb")
	asn := filepath.Join(dir, "asn.csv")
	geotest.WriteMMDB(t, city, "dbip-city-lite", 4, []geotest.Entry{
		{Prefix: "81.2.69.0/24", Data: geotest.FlatCity(geotest.Place{City: "London", CountryCode: "GB", Lat: 51.5142, Lon: -0.0931})},
	})
	geotest.WriteASNCSV(t, asn, []geotest.ASNRow{{Start: "81.2.69.0", End: "81.2.69.255", ASN: 64500, Org: "Example Transit"}})
	overrides := filepath.Join(dir, "overrides.yaml")
	geotest.WriteFile(t, overrides, "overrides:\n  - {cidr: 10.9.0.0/16, label: lab-dc, city: Lab, country_code: ZZ, latitude: 10, longitude: 20, asn: 64999, as_org: Lab}\n")
	db, err := geo.Open(geo.Config{City: []string{city}, ASN: []string{asn}, Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func trace() *traceroute.Result {
	return &traceroute.Result{Hops: []traceroute.Hop{
		{TTL: 1, Addrs: []traceroute.HopAddr{{Addr: netip.MustParseAddr("192.168.1.1")}}},
		{TTL: 2, Addrs: []traceroute.HopAddr{{Addr: netip.MustParseAddr("10.9.1.1")}}},
		{TTL: 3, Addrs: []traceroute.HopAddr{{Addr: netip.MustParseAddr("81.2.69.160")}, {Addr: netip.MustParseAddr("81.2.69.161")}}},
		{TTL: 4},
	}}
}

func TestTraceEnrichment(t *testing.T) {
	res := trace()
	Trace(context.Background(), testDB(t), res)
	private := res.Hops[0].Addrs[0]
	if private.Special == "" || private.Located || private.ASN != 0 {
		t.Errorf("private hop %+v: want labelled special, not located", private)
	}
	lab := res.Hops[1].Addrs[0]
	if lab.Label != "lab-dc" || !lab.Located || lab.Lat != 10 || lab.ASN != 64999 {
		t.Errorf("overridden hop %+v: want the override's place and ASN", lab)
	}
	for _, a := range res.Hops[2].Addrs {
		if a.ASN != 64500 || a.ASOrg != "Example Transit" || a.City != "London" || a.Country != "GB" || !a.Located || a.Lat != 51.5142 {
			t.Errorf("public hop %+v: want AS64500 in London", a)
		}
	}
	// A nil DB changes nothing.
	res = trace()
	Trace(context.Background(), nil, res)
	if res.Hops[2].Addrs[0].ASN != 0 {
		t.Error("nil DB filled fields")
	}
}

func BenchmarkEnrich30Hops(b *testing.B) {
	db := testDB(b)
	res := &traceroute.Result{}
	for i := range 30 {
		res.Hops = append(res.Hops, traceroute.Hop{TTL: i + 1, Addrs: []traceroute.HopAddr{{Addr: netip.AddrFrom4([4]byte{81, 2, 69, byte(i)})}}})
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		Trace(ctx, db, res)
	}
}
