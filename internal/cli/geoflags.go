package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/dnsscience/dnsscience/internal/geo"
)

// geoFlags selects the geolocation and ASN data files. Commands that enrich
// addresses (geo, trace) register them; each flag's default comes from an
// environment variable.
type geoFlags struct {
	data      string
	city      []string
	asn       []string
	overrides string
}

// Environment variables naming the geo data (lists separated by ':').
const (
	envGeoData      = "DNSSCIENCE_GEO_DATA"
	envGeoCity      = "DNSSCIENCE_GEO_CITY"
	envGeoASN       = "DNSSCIENCE_GEO_ASN"
	envGeoOverrides = "DNSSCIENCE_GEO_OVERRIDES"
)

func (g *geoFlags) register(f *pflag.FlagSet) {
	f.StringVar(&g.data, "geo-data", os.Getenv(envGeoData),
		"directory of geo data files, as 'make geo' fills it (default ./data, else data/ beside the binary's bin/; env "+envGeoData+")")
	f.StringSliceVar(&g.city, "geo-city", splitList(os.Getenv(envGeoCity)),
		"location mmdb file (GeoLite2/GeoIP2 City, DB-IP, IPinfo Lite), repeatable, asked in order; replaces the data directory's (env "+envGeoCity+")")
	f.StringSliceVar(&g.asn, "geo-asn", splitList(os.Getenv(envGeoASN)),
		"ASN file: mmdb (GeoLite2-ASN, IPinfo Lite) or ip-location-db CSV, repeatable; replaces the data directory's (env "+envGeoASN+")")
	f.StringVar(&g.overrides, "geo-overrides", os.Getenv(envGeoOverrides),
		"operator overrides YAML: CIDR → label, location, ASN (env "+envGeoOverrides+")")
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, string(os.PathListSeparator))
}

// config resolves the flags into the files to read.
func (g *geoFlags) config() geo.Config {
	cfg := geo.DefaultConfig(g.dataDir())
	if len(g.city) > 0 {
		cfg.City = g.city
	}
	if len(g.asn) > 0 {
		cfg.ASN = g.asn
	}
	if g.overrides != "" {
		cfg.Overrides = g.overrides
	}
	return cfg
}

// dataDir is --geo-data, else ./data, else data/ next to the bin/ directory
// holding the executable (a built checkout), else ./data.
func (g *geoFlags) dataDir() string {
	if g.data != "" {
		return g.data
	}
	if st, err := os.Stat("data"); err == nil && st.IsDir() {
		return "data"
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Join(filepath.Dir(filepath.Dir(exe)), "data")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return "data"
}

// open loads the geo data; problems with files that exist are errors.
// Missing files are logged: as warnings when named by a flag or variable,
// at info level when they are the data directory's defaults.
func (g *geoFlags) open(e *env) (*geo.DB, error) {
	db, err := geo.Open(g.config())
	if err != nil {
		return nil, err
	}
	named := map[string]bool{g.overrides: true}
	for _, p := range append(append([]string{}, g.city...), g.asn...) {
		named[p] = true
	}
	for _, s := range db.Status().Sources {
		switch {
		case s.Loaded:
		case named[s.Path]:
			e.log.Warn("geo data file not loaded", "path", s.Path, "why", s.Note)
		default:
			e.log.Info("geo data file not loaded", "path", s.Path, "why", s.Note)
		}
	}
	return db, nil
}
