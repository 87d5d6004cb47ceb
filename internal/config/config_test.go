package config

import (
	"flag"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
	"github.com/dnsscience/dnsscience/internal/runner"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.err from the errors got")

// load registers the flags of keys (all when none), parses args and loads
// with env as the environment.
func load(t *testing.T, args []string, env map[string]string, keys ...string) (*Server, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	f := Register(fs, keys...)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parsing %v: %v", args, err)
	}
	return f.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

// TestBadConfigs: each file in testdata/bad is refused with the exact error
// in its .err twin.
func TestBadConfigs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no bad configs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := load(t, []string{"--config", f}, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			errFile := strings.TrimSuffix(f, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(errFile, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(errFile)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if got := err.Error(); got != strings.TrimSpace(string(want)) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestGoodConfig(t *testing.T) {
	t.Parallel()
	s, err := load(t, []string{"--config", "testdata/good.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := func(v float64) *float64 { return &v }
	want := map[string][2]any{
		"listen":          {s.Listen, "0.0.0.0:8443"},
		"store":           {s.StoreURL(), "postgres://dnsscience@db.internal/dnsscience"},
		"data":            {s.Data, "/var/lib/dnsscience"},
		"upstream":        {len(s.Upstream), 2},
		"upstream[1]":     {s.Upstream[1].String(), "tls://127.0.0.1:853"},
		"trusted_proxies": {s.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		"allow":           {s.Allow, []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("2001:db8::/32")}},
		"cors_origins":    {s.CORSOrigins, []string{"https://ops.example.net"}},
		"tls":             {s.TLSCert + " " + s.TLSKey, "/etc/dnsscience/cert.pem /etc/dnsscience/key.pem"},
		"redirect_http":   {s.RedirectHTTP, ":80"},
		"resolvers":       {s.Resolvers, "/etc/dnsscience/resolvers.yaml"},
		"retention":       {s.Retention, 30 * 24 * time.Hour},
		"backup":          {[2]any{s.BackupDaily, s.BackupKeep}, [2]any{true, 14}},
		"tiles":           {s.TileURL + " " + s.TileAttr, "https://tiles.example.net/{z}/{x}/{y}.png © Example Tiles"},
		"rate_limits":     {s.RateLimits, []ratelimit.Policy{{Name: "dns", Limit: 6000, Window: time.Minute}, {Name: "trace", Limit: 30, Window: time.Hour}}},
		"log_level":       {s.LogLevel, slog.LevelWarn},
		"nats":            {s.NATS, "nats://127.0.0.1:4222"},
		"debug_listen":    {s.DebugListen, "127.0.0.1:6060"},
		"watch":           {[]any{s.WatchDomains, s.WatchEvery}, []any{[]string{"example.com.", "example.net."}, 30 * time.Minute}},
		"server":          {[2]any{s.ServerID, s.ServerLease}, [2]any{"eu-1", 45 * time.Second}},
		"public_address":  {s.PublicAddress, netip.MustParseAddr("81.2.69.142")},
		"location":        {s.Location, runner.Location{ID: "lon", Name: "London", Provider: "example hosting", City: "London", Country: "United Kingdom", Latitude: f(51.5), Longitude: f(-0.12)}},
		"locations": {s.Locations, []runner.Location{{ID: "fra", Name: "Frankfurt", Provider: "test", Latitude: f(50.1), Longitude: f(8.7)},
			{ID: "sin", Name: "Singapore", Endpoint: "nats://agent-sin"}}},
		"origin": {s.Origin("retention"), "testdata/good.yaml:13: retention"},
		"geo":    {[]any{s.GeoData, s.GeoCity, s.GeoASN, s.GeoOverrides}, []any{"/var/lib/dnsscience/geo", []string{"/var/lib/dnsscience/geo/city.mmdb"}, []string{"/var/lib/dnsscience/geo/asn.csv"}, "/etc/dnsscience/geo-overrides.yaml"}},
	}
	for _, st := range Settings() {
		if s.Origin(st.Key) == "default" {
			t.Errorf("testdata/good.yaml does not set %s", st.Key)
		}
	}
	for name, gw := range want {
		if !reflect.DeepEqual(gw[0], gw[1]) {
			t.Errorf("%s: got %#v, want %#v", name, gw[0], gw[1])
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Listen != "127.0.0.1:8080" || s.Data != "data" || s.StoreURL() != "sqlite://data/dnsscience.db" || s.Retention != 90*24*time.Hour ||
		s.BackupDaily || s.BackupKeep != 7 || s.LogLevel != slog.LevelInfo || len(s.Upstream) != 0 || s.Origin("listen") != "default" {
		t.Errorf("defaults: %+v", s)
	}
	if l := s.Location; l.ID != "local" || l.Name != "This server" || l.Provider != "self" || l.Latitude != nil || l.Longitude != nil {
		t.Errorf("own location by default: %+v, want local, This server, self, no coordinates", l)
	}
}

// FuzzParse: no file text makes the loader panic, and every error names
// the file.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/good.yaml", "testdata/bad/locations-duplicate-id.yaml", "testdata/bad/location-unknown-key.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("location: {latitude: 1}\nlocations: [[1]]\nallow: [{a: b}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := defaults()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.parse("f.yaml", data); err != nil && !strings.Contains(err.Error(), "f.yaml") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}
