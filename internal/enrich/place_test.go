package enrich

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/geo/geotest"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

var frankfurt = &LatLon{50.11, 8.68}

// placeDB places 10.1.x in Frankfurt, 10.2.x in Sydney, 10.3.x in Lisbon,
// 10.4.x in Helsinki, an anycast 10.53.x in Frankfurt, and (from the data
// file, as DB-IP does) 1.1.1.0/24 in Sydney.
func placeDB(t *testing.T) *geo.DB {
	dir := t.TempDir()
	city := filepath.Join(dir, "city.mmdb")
	geotest.WriteMMDB(t, city, "dbip-city-lite", 4, []geotest.Entry{
		{Prefix: "1.1.1.0/24", Data: geotest.FlatCity(geotest.Place{City: "Sydney", CountryCode: "AU", Lat: -33.87, Lon: 151.21})},
	})
	ov := filepath.Join(dir, "overrides.yaml")
	geotest.WriteFile(t, ov, `overrides:
  - {cidr: 10.1.0.0/16, city: Frankfurt, country_code: DE, latitude: 50.1, longitude: 8.7}
  - {cidr: 10.2.0.0/16, city: Sydney, country_code: AU, latitude: -33.87, longitude: 151.21}
  - {cidr: 10.3.0.0/16, city: Lisbon, country_code: PT, latitude: 38.72, longitude: -9.14}
  - {cidr: 10.4.0.0/16, city: Helsinki, country_code: FI, latitude: 60.17, longitude: 24.94}
  - {cidr: 10.53.0.0/16, city: Frankfurt, country_code: DE, latitude: 50.1, longitude: 8.7, anycast: true}
`)
	db, err := geo.Open(geo.Config{City: []string{city}, Overrides: ov})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// hop is a hop answered by addr in rtt.
func hop(ttl int, addr string, rtt time.Duration) traceroute.Hop {
	a := netip.MustParseAddr(addr)
	return traceroute.Hop{TTL: ttl, Addrs: []traceroute.HopAddr{{Addr: a}},
		Probes: []traceroute.Probe{{Addr: a, RTT: rtt, RTTMS: float64(rtt.Microseconds()) / 1000}, {Timeout: true}}}
}

func TestSpeedOfLightPlacement(t *testing.T) {
	db := placeDB(t)
	ms := time.Millisecond
	res := &traceroute.Result{Hops: []traceroute.Hop{
		hop(1, "10.1.0.1", ms),                    // Frankfurt, 1 ms: plausible
		hop(2, "10.2.0.1", 2*ms),                  // Sydney in 2 ms: impossible
		hop(3, "193.0.14.129", 3*ms),              // K-root: anycast, not in the data
		hop(4, "1.1.1.1", 2*ms),                   // anycast, the data says Sydney
		hop(5, "10.53.0.1", 500*time.Microsecond), // anycast, pinned to Frankfurt
		hop(6, "10.3.0.1", 20*ms),                 // Lisbon, ~1,900 km, in 20 ms: plausible
		hop(7, "10.4.0.1", 16*ms),                 // Helsinki: near enough the source, not via Lisbon
		hop(8, "10.9.0.1", 30*ms),                 // private, not located
	}}
	TraceWith(context.Background(), db, res, Options{Source: frankfurt})
	want := []struct {
		placement string
		located   bool
		anycast   bool
		bound     float64
	}{
		{traceroute.PlacementPlausible, true, false, 100},
		{traceroute.PlacementImplausible, true, false, 200},
		{traceroute.PlacementAnycastUnplaced, false, true, 300},
		{traceroute.PlacementAnycastUnplaced, false, true, 200},
		{traceroute.PlacementPlausible, true, true, 50},
		{traceroute.PlacementPlausible, true, false, 2000},
		{traceroute.PlacementImplausible, true, false, 1600},
		{"", false, false, 3000},
	}
	for i, w := range want {
		a := res.Hops[i].Addrs[0]
		if a.Placement != w.placement || a.Located != w.located || a.Anycast != w.anycast || a.BoundKM != w.bound {
			t.Errorf("hop %d (%s): placement %q located %v anycast %v bound %v km; want %q %v %v %v",
				i+1, a.Addr, a.Placement, a.Located, a.Anycast, a.BoundKM, w.placement, w.located, w.anycast, w.bound)
		}
	}
	// An implausible placement keeps its coordinates; a plausible one is
	// exactly the data's; an unplaced anycast hop has none.
	if a := res.Hops[1].Addrs[0]; a.Lat != -33.87 || a.City != "Sydney" {
		t.Errorf("implausible hop lost its place: %+v", a)
	}
	if a := res.Hops[0].Addrs[0]; a.Lat != 50.1 || a.Lon != 8.7 || a.City != "Frankfurt" {
		t.Errorf("plausible hop changed: %+v", a)
	}
	if a := res.Hops[3].Addrs[0]; a.Lat != 0 || a.City != "" || a.Country != "" {
		t.Errorf("unplaced anycast hop keeps a place: %+v", a)
	}
}

// TestPlacementWithoutSource: only the previous placed hop bounds a hop,
// and anycast hops stay unplaced.
func TestPlacementWithoutSource(t *testing.T) {
	db := placeDB(t)
	res := &traceroute.Result{Hops: []traceroute.Hop{
		hop(1, "10.1.0.1", time.Millisecond),
		hop(2, "10.2.0.1", 2*time.Millisecond),
		hop(3, "10.53.0.1", 500*time.Microsecond),
	}}
	Trace(context.Background(), db, res)
	for i, want := range []string{traceroute.PlacementPlausible, traceroute.PlacementImplausible, traceroute.PlacementAnycastUnplaced} {
		if got := res.Hops[i].Addrs[0].Placement; got != want {
			t.Errorf("hop %d: placement %q, want %q", i+1, got, want)
		}
	}
}

func TestDistance(t *testing.T) {
	// Frankfurt to Sydney is about 16,500 km.
	if d := distanceKM(*frankfurt, LatLon{-33.87, 151.21}); d < 16300 || d > 16700 {
		t.Errorf("Frankfurt-Sydney %v km, want about 16,500", d)
	}
}

// TestCrossCheck: a London placement is plausible from Frankfurt in 10 ms,
// but the same address answered New York in 5 ms: implausible in both. An
// anycast address pinned near Frankfurt stays placed there although New
// York saw it (its own site) in half a millisecond too.
func TestCrossCheck(t *testing.T) {
	dir := t.TempDir()
	ov := filepath.Join(dir, "overrides.yaml")
	geotest.WriteFile(t, ov, "overrides:\n  - {cidr: 10.5.0.0/16, city: London, country_code: GB, latitude: 51.51, longitude: -0.13}\n  - {cidr: 10.53.0.0/16, city: Frankfurt, country_code: DE, latitude: 50.1, longitude: 8.7, anycast: true}\n")
	db2, err := geo.Open(geo.Config{Overrides: ov})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	newYork := LatLon{40.71, -74.01}
	fra := &traceroute.Result{Hops: []traceroute.Hop{hop(1, "10.5.0.1", 10*time.Millisecond), hop(2, "10.53.0.1", 500*time.Microsecond)}}
	nyc := &traceroute.Result{Hops: []traceroute.Hop{hop(1, "10.5.0.1", 5*time.Millisecond), hop(2, "10.53.0.1", 500*time.Microsecond)}}
	TraceWith(context.Background(), db2, fra, Options{Source: frankfurt})
	TraceWith(context.Background(), db2, nyc, Options{Source: &newYork})
	if got := fra.Hops[0].Addrs[0].Placement; got != traceroute.PlacementPlausible {
		t.Fatalf("from Frankfurt alone: %q, want plausible", got)
	}
	CrossCheck([]Vantage{{*frankfurt, fra}, {newYork, nyc}})
	for _, res := range []*traceroute.Result{fra, nyc} {
		if a := res.Hops[0].Addrs[0]; a.Placement != traceroute.PlacementImplausible || a.BoundKM == 0 {
			t.Errorf("after the cross-check: %+v, want implausible with its own bound", a)
		}
	}
	if a := fra.Hops[1].Addrs[0]; a.Placement != traceroute.PlacementPlausible || !a.Located {
		t.Errorf("anycast hop pinned near Frankfurt: %+v, want it still placed", a)
	}
	if a := nyc.Hops[1].Addrs[0]; a.Placement != traceroute.PlacementAnycastUnplaced {
		t.Errorf("anycast hop from New York: %+v, want unplaced", a)
	}
}
