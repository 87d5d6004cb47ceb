package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/geo/geotest"
)

// geoDataDir writes a small data directory with the file names `make geo`
// produces.
func geoDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	geotest.WriteMMDB(t, filepath.Join(dir, "dbip-city-ipv4.mmdb"), "city ipv4", 4, []geotest.Entry{
		{Prefix: "8.8.8.0/24", Data: geotest.FlatCity(geotest.Place{City: "Mountain View", Region: "California",
			CountryCode: "US", Lat: 37.5, Lon: -122.25})},
	})
	geotest.WriteMMDB(t, filepath.Join(dir, "dbip-city-ipv6.mmdb"), "city ipv6", 6, []geotest.Entry{
		{Prefix: "2001:4860::/32", Data: geotest.FlatCity(geotest.Place{City: "Montreal", Region: "Quebec",
			CountryCode: "CA", Lat: 45.5, Lon: -73.5})},
	})
	geotest.WriteASNCSV(t, filepath.Join(dir, "asn-ipv4.csv"), []geotest.ASNRow{
		{Start: "8.8.8.0", End: "8.8.8.255", ASN: 15169, Org: "Google LLC"},
	})
	geotest.WriteASNCSV(t, filepath.Join(dir, "asn-ipv6.csv"), []geotest.ASNRow{
		{Start: "2001:4860::", End: "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff", ASN: 15169, Org: "Google LLC"},
	})
	return dir
}

func runGeoCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"dnsscience"}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// geoGolden compares got with testdata/golden/name; GEO_GOLDEN_UPDATE=1
// rewrites it.
func geoGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if os.Getenv("GEO_GOLDEN_UPDATE") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (GEO_GOLDEN_UPDATE=1 go test creates it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestGeoText(t *testing.T) {
	dir := geoDataDir(t)
	out, errOut, code := runGeoCLI(t, "geo", "--geo-data", dir, "8.8.8.8", "10.1.2.3", "[2001:4860::1]", "::ffff:8.8.8.9")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr %s", code, errOut)
	}
	geoGolden(t, "geo_text.txt", out)
}

func TestGeoJSON(t *testing.T) {
	dir := geoDataDir(t)
	t.Setenv(envGeoData, dir)
	out, errOut, code := runGeoCLI(t, "geo", "--json", "8.8.8.8", "100.64.1.1")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr %s", code, errOut)
	}
	var res geoResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if len(res.Addresses) != 2 {
		t.Fatalf("got %d addresses, want 2", len(res.Addresses))
	}
	g, c := res.Addresses[0], res.Addresses[1]
	if g.ASN != 15169 || g.City != "Mountain View" || g.Country != "United States" || !g.Located ||
		g.LocationSource != "dbip-city-ipv4.mmdb" || g.ASNSource != "asn-ipv4.csv" {
		t.Errorf("8.8.8.8: got %+v", g)
	}
	if c.Special != geo.SpecialCGNAT || c.Located {
		t.Errorf("100.64.1.1: got %+v, want CGNAT, not located", c)
	}
	if len(res.Attributions) == 0 || !strings.Contains(out, "IP Geolocation by DB-IP") {
		t.Errorf("JSON lacks the DB-IP attribution:\n%s", out)
	}
	for _, key := range []string{`"addr"`, `"located"`, `"latitude"`, `"country_code"`, `"asn"`, `"as_org"`, `"location_source"`, `"network"`} {
		if !strings.Contains(out, key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestGeoOverridesFromEnv(t *testing.T) {
	dir := geoDataDir(t)
	ov := filepath.Join(t.TempDir(), "ov.yaml")
	geotest.WriteFile(t, ov, "overrides:\n  - cidr: 10.9.0.0/16\n    label: Lab\n    city: Oslo\n    country_code: NO\n    latitude: 59.91\n    longitude: 10.75\n")
	t.Setenv(envGeoOverrides, ov)
	out, _, code := runGeoCLI(t, "geo", "--geo-data", dir, "10.9.1.1")
	if code != ExitOK || !strings.Contains(out, "label     Lab") || !strings.Contains(out, "Oslo, Norway (NO), Europe") ||
		!strings.Contains(out, "special   private") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestGeoUnknownAndMissingData(t *testing.T) {
	dir := geoDataDir(t)
	out, _, code := runGeoCLI(t, "geo", "--geo-data", dir, "5.5.5.5")
	if code != ExitFailure || !strings.Contains(out, "note      "+geo.NoteNotInData) {
		t.Errorf("unknown address: exit %d (want 1), output:\n%s", code, out)
	}
	empty := t.TempDir()
	out, errOut, code := runGeoCLI(t, "geo", "--geo-data", empty, "8.8.8.8")
	if code != ExitFailure || !strings.Contains(out, geo.NoteNoData) || !strings.Contains(errOut, "make geo") {
		t.Errorf("no data: exit %d (want 1), stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	missing := filepath.Join(empty, "GeoLite2-City.mmdb")
	_, errOut, code = runGeoCLI(t, "geo", "--geo-data", dir, "--geo-city", missing, "8.8.8.8")
	if code != ExitOK || !strings.Contains(errOut, "geo data file not loaded") || !strings.Contains(errOut, missing) {
		t.Errorf("named file missing: exit %d (want 0: ASN still known), stderr %q, want a warning naming it", code, errOut)
	}
	// Special addresses need no data.
	if _, _, code := runGeoCLI(t, "geo", "--geo-data", empty, "192.0.2.1"); code != ExitOK {
		t.Errorf("special address without data: exit %d, want 0", code)
	}
}

func TestGeoAbout(t *testing.T) {
	dir := geoDataDir(t)
	out, _, code := runGeoCLI(t, "geo", "--about", "--geo-data", dir)
	for _, want := range []string{"dbip-city-ipv4.mmdb", "asn-ipv6.csv", "DB-IP Lite (via ip-location-db)",
		"IP Geolocation by DB-IP — https://db-ip.com (CC BY 4.0)", "Route Views", "Number Resource Organization"} {
		if !strings.Contains(out, want) {
			t.Errorf("--about lacks %q:\n%s", want, out)
		}
	}
	if code != ExitOK {
		t.Errorf("exit %d, want 0", code)
	}
	out, _, _ = runGeoCLI(t, "geo", "--about", "--json", "--geo-data", dir)
	var st geo.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Sources) != 4 || len(st.Attributions) != 3 {
		t.Errorf("--about --json: err %v, %d sources, %d attributions:\n%s", err, len(st.Sources), len(st.Attributions), out)
	}
	out, _, _ = runGeoCLI(t, "geo", "--about", "--geo-data", t.TempDir())
	if !strings.Contains(out, "run 'make geo'") {
		t.Errorf("--about without data does not say how to get it:\n%s", out)
	}
}

func TestGeoBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"geo"}, "geo needs at least one IP address (or --about)"},
		{[]string{"geo", "example.com"}, `bad address "example.com": want an IPv4 or IPv6 address such as 8.8.8.8 or 2001:db8::1 (geo does not resolve names)`},
		{[]string{"geo", "1.2.3.4", "300.1.1.1"}, `bad address "300.1.1.1"`},
		{[]string{"geo", "--geo-city", "/nonexistent/file.mmdb", "--bogus"}, "unknown flag: --bogus"},
	}
	for _, tt := range tests {
		_, errOut, code := runGeoCLI(t, tt.args...)
		if code != ExitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d (want 2), stderr %q, want it to contain %q", tt.args, code, errOut, tt.want)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	geotest.WriteFile(t, bad, "not an mmdb")
	if _, errOut, code := runGeoCLI(t, "geo", "--geo-city", bad, "8.8.8.8"); code != ExitInternal || !strings.Contains(errOut, "bad.mmdb") {
		t.Errorf("corrupt data file: exit %d (want 3), stderr %q", code, errOut)
	}
}
