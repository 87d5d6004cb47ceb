package geo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/dnsscience/dnsscience/internal/geo/geotest"
)

// benchData is a data set for the benchmarks: "synthetic" is generated
// (20,000 /24 networks, 500 cities, a 50,000-row ASN CSV); "real" is what
// `make geo` fetched (skipped when absent).
type benchData struct {
	name  string
	cfg   func(tb testing.TB) Config
	addrs func(tb testing.TB, db *DB) []netip.Addr
}

func benchSets() []benchData {
	return []benchData{
		{"synthetic", syntheticConfig, syntheticAddrs},
		{"real", func(tb testing.TB) Config {
			openRealData(tb).Close()
			return DefaultConfig(realDataDir)
		}, realAddrs},
	}
}

// synthetic caches the generated benchmark data for the whole test binary;
// TestMain removes it.
var synthetic struct {
	once sync.Once
	dir  string
	cfg  Config
}

func TestMain(m *testing.M) {
	code := m.Run()
	if synthetic.dir != "" {
		os.RemoveAll(synthetic.dir)
	}
	os.Exit(code)
}

func syntheticConfig(tb testing.TB) Config {
	synthetic.once.Do(func() {
		dir, err := os.MkdirTemp("", "geo-bench-")
		if err != nil {
			tb.Fatal(err)
		}
		synthetic.dir = dir
		synthetic.cfg = writeSynthetic(tb, dir)
	})
	if synthetic.cfg.City == nil {
		tb.Fatal("synthetic data set could not be generated")
	}
	cfg := synthetic.cfg
	return Config{City: append([]string{}, cfg.City...), ASN: append([]string{}, cfg.ASN...)}
}

func writeSynthetic(tb testing.TB, dir string) Config {
	r := rand.New(rand.NewPCG(1, 2))
	var entries []geotest.Entry
	var rows []geotest.ASNRow
	for i := range 20000 {
		n := 0x0b000000 + uint32(i)<<8 // 11.0.0.0 upwards, /24 each
		p := fmt.Sprintf("%d.%d.%d.0/24", n>>24, n>>16&255, n>>8&255)
		c := r.IntN(500)
		entries = append(entries, geotest.Entry{Prefix: p, Data: geotest.FlatCity(geotest.Place{
			City: fmt.Sprintf("City %d", c), Region: fmt.Sprintf("Region %d", c/10), CountryCode: "US",
			Lat: float64(c%180) - 90, Lon: float64(c%360) - 180})})
	}
	for i := range 50000 {
		n := 0x0b000000 + uint32(i)<<7
		start := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		end := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n) | 127})
		asn := uint32(64512 + r.IntN(5000))
		rows = append(rows, geotest.ASNRow{Start: start.String(), End: end.String(), ASN: asn, Org: fmt.Sprintf("Org %d", asn)})
	}
	city, asn := filepath.Join(dir, "synthetic-city.mmdb"), filepath.Join(dir, "synthetic-asn.csv")
	geotest.WriteMMDB(tb, city, "city ipv4", 4, entries)
	geotest.WriteASNCSV(tb, asn, rows)
	return Config{City: []string{city}, ASN: []string{asn}}
}

func syntheticAddrs(_ testing.TB, _ *DB) []netip.Addr {
	r := rand.New(rand.NewPCG(3, 4))
	out := make([]netip.Addr, 4096)
	for i := range out {
		n := 0x0b000000 + uint32(r.IntN(20000))<<8 + uint32(r.IntN(256))
		out[i] = netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
	return out
}

// realAddrs draws 4096 random public IPv4 addresses the data knows about.
func realAddrs(_ testing.TB, db *DB) []netip.Addr {
	r := rand.New(rand.NewPCG(5, 6))
	out := make([]netip.Addr, 0, 4096)
	for len(out) < cap(out) {
		a := netip.AddrFrom4([4]byte{byte(r.IntN(224)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		if in := db.Lookup(a); in.Located && in.ASN != 0 {
			out = append(out, a)
		}
	}
	return out
}

// runLookups benchmarks Lookup over addrs, one goroutine or parallel.
func runLookups(b *testing.B, db *DB, addrs []netip.Addr, parallel bool) {
	for _, a := range addrs { // warm the string caches and page cache
		db.Lookup(a)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		for i := 0; b.Loop(); i++ {
			if in := db.Lookup(addrs[i&4095]); in.LocationSource == "" && in.ASNSource == "" {
				b.Fatalf("%s: nothing found", addrs[i&4095])
			}
		}
	} else {
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(4096)
			for pb.Next() {
				db.Lookup(addrs[i&4095])
				i++
			}
		})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/lookup")
}

func benchLookup(b *testing.B, only string, parallel bool) {
	for _, set := range benchSets() {
		b.Run(set.name, func(b *testing.B) {
			cfg := set.cfg(b)
			full := mustOpen(b, cfg)
			addrs := set.addrs(b, full)
			switch only {
			case RoleCity:
				cfg.ASN = nil
			case RoleASN:
				cfg.City = nil
			}
			runLookups(b, mustOpen(b, cfg), addrs, parallel)
		})
	}
}

func BenchmarkLookupCity(b *testing.B)         { benchLookup(b, RoleCity, false) }
func BenchmarkLookupCityParallel(b *testing.B) { benchLookup(b, RoleCity, true) }
func BenchmarkLookupASN(b *testing.B)          { benchLookup(b, RoleASN, false) }
func BenchmarkLookupASNParallel(b *testing.B)  { benchLookup(b, RoleASN, true) }
func BenchmarkLookupBoth(b *testing.B)         { benchLookup(b, "", false) }
func BenchmarkLookupBothParallel(b *testing.B) { benchLookup(b, "", true) }

// BenchmarkEnrich30Hops enriches a 30-hop trace: a private first hop, a CGNAT
// hop, then 28 public addresses.
func BenchmarkEnrich30Hops(b *testing.B) {
	for _, set := range benchSets() {
		b.Run(set.name, func(b *testing.B) {
			db := mustOpen(b, set.cfg(b))
			pub := set.addrs(b, db)
			hops := []netip.Addr{netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("100.64.0.1")}
			hops = append(hops, pub[:28]...)
			dst := make([]Info, len(hops))
			ctx := context.Background()
			db.EnrichInto(ctx, dst, hops)
			b.ReportAllocs()
			for b.Loop() {
				db.EnrichInto(ctx, dst, hops)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/trace")
		})
	}
}

// BenchmarkASNTableLoad parses the ASN CSVs; it reports the bytes the loaded
// table holds (its own accounting, and the live heap growth) and the rows.
func BenchmarkASNTableLoad(b *testing.B) {
	for _, set := range benchSets() {
		b.Run(set.name, func(b *testing.B) {
			cfg := set.cfg(b)
			cfg.City = nil
			var db *DB
			var before, after runtime.MemStats
			for b.Loop() {
				if db != nil {
					db.Close()
				}
				db = nil
				runtime.GC()
				runtime.ReadMemStats(&before)
				var err error
				if db, err = Open(cfg); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			held, rows := 0, 0
			for _, s := range db.Status().Sources {
				held += s.MemoryBytes
				rows += s.Records
			}
			b.ReportMetric(float64(held)/(1<<20), "table-MiB")
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MiB")
			b.ReportMetric(float64(rows), "rows")
			runtime.KeepAlive(db)
			db.Close()
		})
	}
}
