package geo_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/geo/geotest"
)

// Enriching a traceroute's hops: one call per trace, one Info per hop.
func ExampleDB_Enrich() {
	dir, _ := os.MkdirTemp("", "geo-example-")
	defer os.RemoveAll(dir)
	if err := writeExampleData(dir); err != nil {
		fmt.Println(err)
		return
	}

	db, err := geo.Open(geo.DefaultConfig(dir)) // the files `make geo` fetches
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	hops := []netip.Addr{
		netip.MustParseAddr("192.168.1.1"),
		netip.MustParseAddr("100.64.0.1"),
		netip.MustParseAddr("8.8.8.8"),
	}
	for _, in := range db.Enrich(context.Background(), hops) {
		if in.Special != "" {
			fmt.Printf("%s: %s\n", in.Addr, in.Special)
			continue
		}
		fmt.Printf("%s: AS%d %s, %s, %s (%.3f, %.3f)\n",
			in.Addr, in.ASN, in.ASOrg, in.City, in.CountryCode, in.Latitude, in.Longitude)
	}
	// Output:
	// 192.168.1.1: private
	// 100.64.0.1: cgnat
	// 8.8.8.8: AS15169 Google LLC, Mountain View, US (37.422, -122.085)
}

func writeExampleData(dir string) error {
	err := geotest.BuildMMDB(filepath.Join(dir, "dbip-city-ipv4.mmdb"), "city ipv4", 4, []geotest.Entry{
		{Prefix: "8.8.8.0/24", Data: geotest.FlatCity(geotest.Place{City: "Mountain View", CountryCode: "US", Lat: 37.422, Lon: -122.085})},
	})
	if err != nil {
		return err
	}
	return geotest.BuildASNCSV(filepath.Join(dir, "asn-ipv4.csv"), []geotest.ASNRow{
		{Start: "8.8.8.0", End: "8.8.8.255", ASN: 15169, Org: "Google LLC"},
	})
}
