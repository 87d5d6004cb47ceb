package geo

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/geo/geotest"
)

func writeCityVersion(t testing.TB, path, city string) {
	geotest.WriteMMDB(t, path, "city ipv4", 4, []geotest.Entry{
		{Prefix: "8.8.8.0/24", Data: geotest.FlatCity(geotest.Place{City: city, CountryCode: "US", Lat: 1, Lon: 2})},
	})
}

// waitFor polls cond until it holds or the test's time runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReloadUnderConcurrentLookups(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "dbip-city-ipv4.mmdb")
	asn := filepath.Join(dir, "asn-ipv4.csv")
	writeCityVersion(t, city, "Alpha")
	geotest.WriteASNCSV(t, asn, []geotest.ASNRow{{Start: "8.8.8.0", End: "8.8.8.255", ASN: 1, Org: "one"}})
	db := mustOpen(t, Config{City: []string{city}, ASN: []string{asn}})

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { db.Watch(ctx, 10*time.Millisecond, func(err error) { t.Errorf("reload: %v", err) }) })

	var sawBeta, sawTwo atomic.Bool
	var bad atomic.Value
	a := netip.MustParseAddr("8.8.8.8")
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				in := db.Lookup(a)
				switch {
				case in.City == "Beta":
					sawBeta.Store(true)
				case in.City != "Alpha":
					bad.Store(in)
				}
				switch {
				case in.ASN == 2 && in.ASOrg == "two":
					sawTwo.Store(true)
				case in.ASN != 1 || in.ASOrg != "one":
					bad.Store(in)
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	writeCityVersion(t, city, "Beta")
	geotest.WriteASNCSV(t, asn, []geotest.ASNRow{{Start: "8.8.8.0", End: "8.8.8.255", ASN: 2, Org: "two"}})
	waitFor(t, "lookups to see the new files", func() bool { return sawBeta.Load() && sawTwo.Load() })
	cancel()
	wg.Wait()
	if v := bad.Load(); v != nil {
		t.Errorf("a lookup during reload saw %+v", v)
	}
}

func TestReloadKeepsPreviousVersionOnBadFile(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "dbip-city-ipv4.mmdb")
	writeCityVersion(t, city, "Alpha")
	db := mustOpen(t, Config{City: []string{city}})
	writeString(t, city, "garbage, not an mmdb")
	err := db.Reload(context.Background())
	if err == nil || !strings.Contains(err.Error(), city) {
		t.Fatalf("Reload of a corrupt file: got %v, want an error naming it", err)
	}
	if got := db.Lookup(netip.MustParseAddr("8.8.8.8")); got.City != "Alpha" {
		t.Errorf("after a failed reload: got city %q, want the previous version's Alpha", got.City)
	}
	st := db.Status().Sources[0]
	if !st.Loaded || !strings.Contains(st.Note, "previous version kept") {
		t.Errorf("status after failed reload: %+v", st)
	}
	if db.changed() {
		t.Error("changed() after a failed reload of the same file: Watch would retry it every tick")
	}
	writeCityVersion(t, city, "Gamma")
	if err := db.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := db.Lookup(netip.MustParseAddr("8.8.8.8")); got.City != "Gamma" {
		t.Errorf("after a good reload: got %q, want Gamma", got.City)
	}
}

func TestWatchPicksUpDataThatArrivesLater(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, DefaultConfig(dir))
	a := netip.MustParseAddr("8.8.8.8")
	if got := db.Lookup(a); got.Note != NoteNoData {
		t.Fatalf("before: got %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { db.Watch(ctx, 10*time.Millisecond, nil); close(done) }()
	writeCityVersion(t, filepath.Join(dir, "dbip-city-ipv4.mmdb"), "Arrived")
	waitFor(t, "the new file to load", func() bool { return db.Lookup(a).City == "Arrived" })
	cancel()
	<-done
	if !db.Loaded() {
		t.Error("Loaded() = false after the file arrived")
	}
}

func TestReloadHonoursContext(t *testing.T) {
	db := mustOpen(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Reload(ctx); err != context.Canceled {
		t.Errorf("Reload with a cancelled ctx: got %v, want context.Canceled", err)
	}
}
