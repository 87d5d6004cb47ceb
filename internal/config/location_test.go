package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/geo/geotest"
)

// geoDB writes a City mmdb placing 81.2.69.0/24 in London and opens it.
func geoDB(t *testing.T) *geo.DB {
	t.Helper()
	p := filepath.Join(t.TempDir(), "city.mmdb")
	geotest.WriteMMDB(t, p, "GeoLite2-City", 6, []geotest.Entry{{Prefix: "81.2.69.0/24",
		Data: geotest.MaxMindCity(geotest.Place{City: "London", CountryCode: "GB", Country: "United Kingdom", Lat: 51.5142, Lon: -0.0931})}})
	db, err := geo.Open(geo.Config{City: []string{p}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestLocalLocation: configured coordinates are kept; unset ones come from
// the geo data for public_address; else they stay unknown (nil), never 0,0.
// The server's location comes first, the configured others after it.
func TestLocalLocation(t *testing.T) {
	t.Parallel()
	g := geoDB(t)
	for _, c := range []struct {
		name          string
		args          []string
		db            *geo.DB
		lat, lon      float64 // NaN-free: located only when wantLocated
		located       bool
		city, country string
		how           string
	}{
		{"configured", []string{"--location-latitude", "1.5", "--location-longitude", "-2.5", "--location-city", "Here", "--public-address", "81.2.69.142"}, g, 1.5, -2.5, true, "Here", "", "configured"},
		{"from geo", []string{"--public-address", "81.2.69.142"}, g, 51.5142, -0.0931, true, "London", "United Kingdom", "geo data for public_address 81.2.69.142"},
		{"configured city kept", []string{"--public-address", "81.2.69.142", "--location-city", "Docklands"}, g, 51.5142, -0.0931, true, "Docklands", "United Kingdom", "geo data"},
		{"no address", nil, g, 0, 0, false, "", "", "unknown: set location.latitude"},
		{"address not in data", []string{"--public-address", "81.2.70.1"}, g, 0, 0, false, "", "", "unknown: public_address 81.2.70.1: " + geo.NoteNotInData},
		{"special address", []string{"--public-address", "10.1.2.3"}, g, 0, 0, false, "", "", "special-purpose"},
		{"no geo data", []string{"--public-address", "81.2.69.142"}, nil, 0, 0, false, "", "", "unknown: no geo data"},
	} {
		s, err := load(t, c.args, map[string]string{"DNSSCIENCE_LOCATIONS": "[{id: fra, name: Frankfurt}]"})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		locs, how := s.AllLocations(c.db)
		l := locs[0]
		if len(locs) != 2 || l.ID != "local" || locs[1].ID != "fra" {
			t.Errorf("%s: locations %+v, want local then fra", c.name, locs)
		}
		if !strings.Contains(how, c.how) {
			t.Errorf("%s: how %q, want it to contain %q", c.name, how, c.how)
		}
		if l.Located() != c.located || (c.located && (*l.Latitude != c.lat || *l.Longitude != c.lon)) {
			t.Errorf("%s: coordinates %v,%v; want located=%v %v,%v", c.name, l.Latitude, l.Longitude, c.located, c.lat, c.lon)
		}
		if !c.located && (l.Latitude != nil || l.Longitude != nil) {
			t.Errorf("%s: unknown coordinates must be nil, got %v,%v", c.name, l.Latitude, l.Longitude)
		}
		if l.City != c.city || l.Country != c.country {
			t.Errorf("%s: city %q country %q, want %q %q", c.name, l.City, l.Country, c.city, c.country)
		}
	}
}
