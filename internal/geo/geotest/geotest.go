// Package geotest writes small geolocation data files for tests: mmdb files
// in the MaxMind City and ASN schemas, the flat ip-location-db (DB-IP Lite)
// schema and IPinfo Lite, built with github.com/maxmind/mmdbwriter, and
// ip-location-db ASN CSVs.
package geotest

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Entry is one network and its record.
type Entry struct {
	Prefix string // CIDR
	Data   mmdbtype.Map
}

// WriteMMDB writes entries to path as an mmdb of the given database type
// and IP version (4 or 6), renaming a temporary file over path so a reader
// of the old file never sees a partial one. It fails the test on error.
func WriteMMDB(tb testing.TB, path, dbType string, ipVersion int, entries []Entry) {
	tb.Helper()
	if err := BuildMMDB(path, dbType, ipVersion, entries); err != nil {
		tb.Fatal(err)
	}
}

// BuildMMDB is WriteMMDB returning its error.
func BuildMMDB(path, dbType string, ipVersion int, entries []Entry) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType, IPVersion: ipVersion, RecordSize: 28,
		BuildEpoch: 1_700_000_000, Languages: []string{"en"},
		Description: map[string]string{"en": "dnsscience test data"},
	})
	if err != nil {
		return fmt.Errorf("mmdbwriter: %w", err)
	}
	for _, e := range entries {
		p, err := netip.ParsePrefix(e.Prefix)
		if err != nil {
			return err
		}
		n := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
		if err := tree.Insert(n, e.Data); err != nil {
			return fmt.Errorf("inserting %s: %w", e.Prefix, err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return writeRename(path, buf.Bytes())
}

// writeRename writes data beside path and renames it over path.
func writeRename(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".geotest-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteFile writes content to path through a rename.
func WriteFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := writeRename(path, []byte(content)); err != nil {
		tb.Fatal(err)
	}
}

// ASNRow is one row of an ip-location-db ASN CSV.
type ASNRow struct {
	Start, End string
	ASN        uint32
	Org        string
}

// WriteASNCSV writes rows as an ip-location-db ASN CSV (org quoted when it
// holds a comma or a quote, as the published files do).
func WriteASNCSV(tb testing.TB, path string, rows []ASNRow) {
	tb.Helper()
	if err := BuildASNCSV(path, rows); err != nil {
		tb.Fatal(err)
	}
}

// BuildASNCSV is WriteASNCSV returning its error.
func BuildASNCSV(path string, rows []ASNRow) error {
	var b strings.Builder
	for _, r := range rows {
		org := r.Org
		if strings.ContainsAny(org, ",\"") {
			org = `"` + strings.ReplaceAll(org, `"`, `""`) + `"`
		}
		fmt.Fprintf(&b, "%s,%s,%d,%s\n", r.Start, r.End, r.ASN, org)
	}
	return writeRename(path, []byte(b.String()))
}

// names is a MaxMind localized-names map.
func names(en string, others ...string) mmdbtype.Map {
	m := mmdbtype.Map{"en": mmdbtype.String(en)}
	for i := 0; i+1 < len(others); i += 2 {
		m[mmdbtype.String(others[i])] = mmdbtype.String(others[i+1])
	}
	return m
}

// Place describes a location for the record constructors.
type Place struct {
	City, Region, RegionCode     string
	CountryCode, Country         string
	ContinentCode, Continent     string
	Lat, Lon                     float64
	AccuracyKM                   uint16
	TimeZone                     string
	GeonameID                    uint32
	ExtraSubdivision, PostalCode string
}

// MaxMindCity builds a GeoIP2/GeoLite2 City record, with names in several
// languages and the keys a reader should skip (geoname_id, postal,
// registered_country, is_in_european_union).
func MaxMindCity(p Place) mmdbtype.Map {
	m := mmdbtype.Map{
		"city": mmdbtype.Map{"geoname_id": mmdbtype.Uint32(p.GeonameID),
			"names": names(p.City, "de", p.City+"-de", "ja", "市")},
		"continent": mmdbtype.Map{"code": mmdbtype.String(p.ContinentCode), "geoname_id": mmdbtype.Uint32(6255148),
			"names": names(p.Continent, "fr", "continent")},
		"country": mmdbtype.Map{"iso_code": mmdbtype.String(p.CountryCode), "is_in_european_union": mmdbtype.Bool(true),
			"names": names(p.Country, "es", "país")},
		"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("ZZ"), "names": names("Elsewhere")},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(p.Lat), "longitude": mmdbtype.Float64(p.Lon),
			"accuracy_radius": mmdbtype.Uint16(p.AccuracyKM), "time_zone": mmdbtype.String(p.TimeZone)},
		"postal": mmdbtype.Map{"code": mmdbtype.String(p.PostalCode)},
	}
	subs := mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(p.RegionCode), "names": names(p.Region)}}
	if p.ExtraSubdivision != "" {
		subs = append(subs, mmdbtype.Map{"iso_code": mmdbtype.String("X"), "names": names(p.ExtraSubdivision)})
	}
	m["subdivisions"] = subs
	return m
}

// MaxMindASN builds a GeoLite2-ASN record.
func MaxMindASN(asn uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{
		"autonomous_system_number":       mmdbtype.Uint32(asn),
		"autonomous_system_organization": mmdbtype.String(org),
	}
}

// FlatCity builds a record in ip-location-db's flat schema (DB-IP Lite City
// mmdb), with float32 coordinates as those files use.
func FlatCity(p Place) mmdbtype.Map {
	return mmdbtype.Map{
		"city": mmdbtype.String(p.City), "country_code": mmdbtype.String(p.CountryCode),
		"latitude": mmdbtype.Float32(p.Lat), "longitude": mmdbtype.Float32(p.Lon),
		"state1": mmdbtype.String(p.Region), "state2": mmdbtype.String(""),
		"postcode": mmdbtype.String(p.PostalCode), "timezone": mmdbtype.String(p.TimeZone),
	}
}

// IPinfoLite builds an IPinfo Lite record: country and ASN, no city.
func IPinfoLite(p Place, asn, asName, asDomain string) mmdbtype.Map {
	return mmdbtype.Map{
		"asn": mmdbtype.String(asn), "as_name": mmdbtype.String(asName), "as_domain": mmdbtype.String(asDomain),
		"country": mmdbtype.String(p.Country), "country_code": mmdbtype.String(p.CountryCode),
		"continent": mmdbtype.String(p.Continent), "continent_code": mmdbtype.String(p.ContinentCode),
	}
}
