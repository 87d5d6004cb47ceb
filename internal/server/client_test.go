package server

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
)

// TestTrustedProxyAndRateLimitKeys: behind a trusted proxy each client of
// X-Forwarded-For has its own bucket; from an untrusted peer the header is
// ignored, so spoofing it does not reset the limit.
func TestTrustedProxyAndRateLimitKeys(t *testing.T) {
	get := func(ts *testServer, xff string) int {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/dns/www.example.test/A", nil)
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	limits := []ratelimit.Policy{{Name: "dns", Limit: 1, Window: time.Minute}}
	trusted := startServer(t, Config{RateLimits: limits, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if a, b := get(trusted, "203.0.113.1"), get(trusted, "203.0.113.2"); a != 200 || b != 200 {
		t.Errorf("two clients behind a trusted proxy: %d %d, want both 200", a, b)
	}
	if c := get(trusted, "198.51.100.9, 203.0.113.1"); c != 429 {
		t.Errorf("the rightmost untrusted address (203.0.113.1) again: %d, want 429", c)
	}
	untrusted := startServer(t, Config{RateLimits: limits})
	if a, b := get(untrusted, "203.0.113.1"), get(untrusted, "203.0.113.2"); a != 200 || b != 429 {
		t.Errorf("spoofed X-Forwarded-For from an untrusted peer: %d %d, want 200 then 429", a, b)
	}
}

func TestCORS(t *testing.T) {
	ts := startServer(t, Config{CORSOrigins: []string{"https://app.example"}})
	req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/api/v1/measurements", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || resp.Header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/health", nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an origin not configured got %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("security headers missing: %v", resp.Header)
	}
}
