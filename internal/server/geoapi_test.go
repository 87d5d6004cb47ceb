package server

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/geo/geotest"
)

func testGeo(t *testing.T) *geo.DB {
	dir := t.TempDir()
	city := filepath.Join(dir, "dbip-city-ipv4.mmdb")
	asn := filepath.Join(dir, "asn-ipv4.csv")
	geotest.WriteMMDB(t, city, "dbip-city-lite", 4, []geotest.Entry{
		{Prefix: "81.2.69.0/24", Data: geotest.FlatCity(geotest.Place{City: "Paris", CountryCode: "FR", Lat: 48.8566, Lon: 2.3522})},
	})
	geotest.WriteASNCSV(t, asn, []geotest.ASNRow{{Start: "81.2.69.0", End: "81.2.69.255", ASN: 64500, Org: "Example Transit"}})
	db, err := geo.Open(geo.Config{City: []string{city}, ASN: []string{asn}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestGeoEndpointsAndMeasurement(t *testing.T) {
	ts := startServer(t, Config{Geo: testGeo(t)})
	var info geo.Info
	if resp := ts.get(t, "/api/v1/geo/81.2.69.7", &info); resp.StatusCode != 200 || info.City != "Paris" || info.ASN != 64500 || !info.Located {
		t.Errorf("geo: %d %+v", resp.StatusCode, info)
	}
	if ts.get(t, "/api/v1/geo/10.1.2.3", &info); info.Special == "" || info.Located {
		t.Errorf("private address %+v: want labelled special and not located", info)
	}
	var p Problem
	if resp := ts.get(t, "/api/v1/geo/not-an-ip", &p); resp.StatusCode != 400 || p.Errors[0].Field != "addr" {
		t.Errorf("bad address: %d %+v", resp.StatusCode, p)
	}
	var about geo.Status
	if ts.get(t, "/api/v1/geo/about", &about); len(about.Sources) != 2 || len(about.Attributions) == 0 {
		t.Errorf("about %+v: want two sources and the DB-IP attribution", about)
	}
	m := ts.measure(t, `{"type":"geo","target":"81.2.69.7, 192.0.2.1"}`)
	if m.Status != "finished" || !strings.Contains(string(m.Result), `"city":"Paris"`) || !strings.Contains(string(m.Result), `"special":"documentation"`) {
		t.Errorf("geo measurement: %s %s", m.Status, m.Result)
	}
}
