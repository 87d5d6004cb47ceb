package config

import (
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
)

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	good := map[string]ratelimit.Policy{
		"dns=600/1m":       {Name: "dns", Limit: 600, Window: time.Minute},
		"trace=10/m":       {Name: "trace", Limit: 10, Window: time.Minute},
		"probe=5/s":        {Name: "probe", Limit: 5, Window: time.Second},
		"scan=1000000/90s": {Name: "scan", Limit: 1000000, Window: 90 * time.Second},
	}
	for in, want := range good {
		if got, err := parseRateLimit(in); err != nil || got != want {
			t.Errorf("parseRateLimit(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"dns":          "want CLASS=N/WINDOW such as dns=600/1m, with CLASS one of diagnose, dns, geo, probe, propagation, scan, trace",
		"web=1/m":      "with CLASS one of",
		"dns=0/1m":     "a whole number of requests of at least 1",
		"dns=ten/1m":   "a whole number of requests of at least 1",
		"dns=10":       "a whole number of requests of at least 1",
		"dns=10/fort":  `window "fort": want a positive duration`,
		"dns=10/-1m":   `window "-1m": want a positive duration`,
		"dns=10/0s":    `window "0s": want a positive duration`,
		"=10/m":        "with CLASS one of",
		"dns=1.5/1m":   "a whole number",
		"dns=10/1m/2m": `window "1m/2m"`,
	}
	for in, want := range bad {
		if _, err := parseRateLimit(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseRateLimit(%q) error %v; want it to say %q", in, err, want)
		}
	}
}

func TestParseDays(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"0": 0, "30d": 30 * 24 * time.Hour, "720h": 720 * time.Hour, "0d": 0} {
		if got, err := parseDays(in); err != nil || got != want {
			t.Errorf("parseDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "forever", "-1d", "-5h", "1.5d"} {
		if _, err := parseDays(in); err == nil {
			t.Errorf("parseDays(%q) accepted", in)
		}
	}
}
