package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/ratelimit"
	"github.com/dnsscience/dnsscience/internal/scan"
	"github.com/dnsscience/dnsscience/internal/store"
)

const testZone = `$TTL 120
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   127.0.0.1
@    A   192.0.2.1
@    MX  10 mail
www  A   192.0.2.10
_dmarc TXT "v=DMARC1; p=reject"
`

const otherZone = `$TTL 120
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
@    A   192.0.2.2
@    MX  10 mail
`

func startUpstream(t testing.TB) dnsq.Server {
	mux := dnsHandlerMux{
		"example.test.": dnstest.NewZone(t, "example.test.", testZone),
		"other.test.":   dnstest.NewZone(t, "other.test.", otherZone),
	}
	s := dnstest.Start(t, mux)
	srv, err := dnsq.ParseServer(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

type testServer struct {
	*httptest.Server
	srv *Server
	// token is this test client's anonymous client token (X-Client-Token),
	// sent by get and post so that lists show what they created.
	token string
	// header is added to get's requests (e.g. an admin key).
	header http.Header
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if len(cfg.Upstream) == 0 {
		cfg.Upstream = []dnsq.Server{startUpstream(t)}
	}
	cfg.Version = "test"
	if cfg.Store == nil {
		st, err := store.Open(context.Background(), store.SQLiteURL(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cfg.Store = st
	}
	if cfg.Policy == nil {
		cfg.Policy = netpolicy.AllowAll()
	}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = s.Shutdown(context.Background())
	})
	return &testServer{Server: ts, srv: s, token: strings.Repeat("t", 32) + newID()}
}

// withAdmin is ts with an admin key sent on get.
func (ts *testServer) withAdmin(t testing.TB) *testServer {
	t.Helper()
	key, _, err := ts.srv.store.CreateAPIKey(context.Background(), "admin", true)
	if err != nil {
		t.Fatal(err)
	}
	cp := *ts
	cp.header = http.Header{"Authorization": {"Bearer " + key}}
	return &cp
}

func (ts *testServer) get(t *testing.T, path string, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(clientTokenHeader, ts.token)
	for k, v := range ts.header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: status %d, bad JSON %v: %s", path, resp.StatusCode, err, body)
		}
	}
	return resp
}

func TestHealthAndReady(t *testing.T) {
	ts := startServer(t, Config{DataDir: t.TempDir()})
	var h map[string]any
	if resp := ts.get(t, "/health", &h); resp.StatusCode != 200 || h["status"] != "ok" || h["version"] != "test" {
		t.Errorf("/health: %d %v", resp.StatusCode, h)
	}
	var ready struct {
		Status string        `json:"status"`
		Checks []CheckResult `json:"checks"`
	}
	if resp := ts.withAdmin(t).get(t, "/ready", &ready); resp.StatusCode != 200 || ready.Status != "ok" || len(ready.Checks) < 3 {
		t.Errorf("/ready: %d %+v, want 200 with database, memory and disk checks", resp.StatusCode, ready)
	}
	// A failing dependency check turns /ready to 503 and names itself.
	// Without the admin key: the status alone (no hosts, users or paths).
	var public map[string]any
	if resp := ts.get(t, "/ready", &public); resp.StatusCode != 200 || len(public) != 1 || public["status"] != "ok" {
		t.Errorf("public /ready: %d %v, want 200 with the status alone", resp.StatusCode, public)
	}
	failing := startServer(t, Config{ReadyChecks: []ReadyCheck{{Name: "database", Check: func(ctxT) error { return errDown }}}}).withAdmin(t)
	if resp := failing.get(t, "/ready", &ready); resp.StatusCode != 503 || ready.Status != "fail" {
		t.Errorf("/ready with a failing check: %d %+v, want 503", resp.StatusCode, ready)
	}
	found := false
	for _, c := range ready.Checks {
		found = found || (c.Name == "database" && c.Status == "fail" && c.Detail == "database is down")
	}
	if !found {
		t.Errorf("checks %+v lack the failing database entry", ready.Checks)
	}
}

func TestDNSEndpointCachesWithinTTL(t *testing.T) {
	ts := startServer(t, Config{})
	var reply dnsq.Reply
	resp := ts.get(t, "/api/v1/dns/www.example.test/A", &reply)
	if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "MISS" || len(reply.Answer) != 1 || reply.Answer[0].Data != "192.0.2.10" {
		t.Fatalf("first: %d %s %+v", resp.StatusCode, resp.Header.Get("X-Cache"), reply.Answer)
	}
	resp = ts.get(t, "/api/v1/dns/www.example.test/a", &reply)
	if resp.Header.Get("X-Cache") != "HIT" || reply.Answer[0].Data != "192.0.2.10" {
		t.Errorf("second: X-Cache %s, want HIT with the same answer", resp.Header.Get("X-Cache"))
	}
	if resp.Header.Get("RateLimit-Policy") != `"dns";q=600;w=60` || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("headers %v: want the dns rate-limit policy and a request id", resp.Header)
	}
	metrics := ts.metricsText(t)
	if !strings.Contains(metrics, `dnsscience_cache_requests_total{cache="dns",result="hit"} 1`) {
		t.Errorf("metrics lack the cache hit:\n%s", grep(metrics, "cache"))
	}
}

func TestDNSEndpointValidation(t *testing.T) {
	ts := startServer(t, Config{})
	for _, tc := range []struct{ path, field, detail string }{
		{"/api/v1/dns/a..b/A", "name", "empty label"},
		{"/api/v1/dns/" + strings.Repeat("x", 64) + ".test/A", "name", "at most 63"},
		{"/api/v1/dns/example.test/BOGUS", "type", `unknown record type "BOGUS"`},
		{"/api/v1/dns/example.test/A?server=nosuch", "server", `unknown resolver "nosuch"`},
	} {
		var p Problem
		resp := ts.get(t, tc.path, &p)
		if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" ||
			len(p.Errors) != 1 || p.Errors[0].Field != tc.field || !strings.Contains(p.Errors[0].Detail, tc.detail) {
			t.Errorf("%s: %d %+v, want 400 naming %s (%s)", tc.path, resp.StatusCode, p, tc.field, tc.detail)
		}
	}
	var p Problem
	if resp := ts.get(t, "/nope", &p); resp.StatusCode != 404 || p.Status != 404 {
		t.Errorf("/nope: %d %+v", resp.StatusCode, p)
	}
}

func TestRateLimitRefusesWithRetryAfter(t *testing.T) {
	ts := startServer(t, Config{RateLimits: []ratelimit.Policy{{Name: "dns", Limit: 3, Window: time.Minute}}})
	for i := range 3 {
		if resp := ts.get(t, "/api/v1/dns/example.test/A", nil); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != []string{"2", "1", "0"}[i] {
			t.Fatalf("request %d: %d remaining %s", i+1, resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
		}
	}
	var p Problem
	resp := ts.get(t, "/api/v1/dns/example.test/A", &p)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" || p.RetryAfter != 60 || !strings.Contains(p.Detail, "dns allows 3 requests per 1m0s") {
		t.Errorf("4th: %d Retry-After %q %+v, want 429 retry in 60 s (when the first leaves the window)", resp.StatusCode, resp.Header.Get("Retry-After"), p)
	}
	if m := ts.metricsText(t); !strings.Contains(m, `dnsscience_rate_limited_total{class="dns"} 1`) {
		t.Errorf("metrics lack the refusal:\n%s", grep(m, "rate_limited"))
	}
}

func TestScanAndCompare(t *testing.T) {
	ts := startServer(t, Config{})
	var sc scan.Scan
	if resp := ts.get(t, "/api/scan/example.test", &sc); resp.StatusCode != 200 || !sc.Success || sc.Records["A"][0] != "192.0.2.1" ||
		sc.Records["MX"][0] != "10 mail.example.test." || sc.DMARC[0] != `"v=DMARC1; p=reject"` || sc.Cached {
		t.Fatalf("scan: %d %+v", resp.StatusCode, sc)
	}
	ts.get(t, "/api/scan/example.test", &sc)
	if !sc.Cached {
		t.Error("second scan within 60 s was not served from cache")
	}
	var c scan.Comparison
	if resp := ts.get(t, "/api/compare?domain1=example.test&domain2=other.test", &c); resp.StatusCode != 200 || strings.Join(c.Differences, ",") != "A,NS,MX,SOA" {
		t.Errorf("compare: %d differences %v, want A,NS,MX,SOA", resp.StatusCode, c.Differences)
	}
	var p Problem
	if resp := ts.get(t, "/api/compare?domain1=example.test", &p); resp.StatusCode != 400 || p.Errors[0].Field != "domain2" {
		t.Errorf("compare without domain2: %d %+v", resp.StatusCode, p)
	}
}

func ptr[T any](v T) *T { return &v }

func TestLocations(t *testing.T) {
	ts := startServer(t, Config{Locations: []Location{
		{ID: "fra", Name: "Frankfurt", Provider: "self", Latitude: ptr(50.11), Longitude: ptr(8.68), Endpoint: "https://fra.example"},
		{ID: "sin", Name: "Singapore", Provider: "agent", Latitude: ptr(1.29), Longitude: ptr(103.85)},
	}})
	var legacy struct {
		Success   bool `json:"success"`
		Locations []struct {
			ID     string  `json:"id"`
			Lat    float64 `json:"lat"`
			Lon    float64 `json:"lon"`
			Status string  `json:"status"`
		} `json:"locations"`
	}
	ts.get(t, "/api/remote-locations", &legacy)
	if !legacy.Success || len(legacy.Locations) != 2 || legacy.Locations[0].ID != "fra" || legacy.Locations[0].Lat != 50.11 ||
		legacy.Locations[1].Status != "offline" {
		t.Errorf("legacy locations %+v", legacy)
	}
	var v1 struct {
		Locations []map[string]any `json:"locations"`
	}
	ts.get(t, "/api/v1/locations", &v1)
	if len(v1.Locations) != 2 || v1.Locations[0]["status"] != "online" || v1.Locations[0]["longitude"] != 8.68 {
		t.Errorf("v1 locations %+v", v1)
	}
	// Singapore has no way to run (no agent): it is offline, and a
	// measurement there is refused with a 400 naming it, not run here.
	if sin := v1.Locations[1]; sin["status"] != "offline" || !strings.Contains(fmt.Sprint(sin["reason"]), "no agent") {
		t.Errorf("a location with no agent reads %+v, want offline with the reason", sin)
	}
	var p Problem
	resp := ts.post(t, `{"type":"dns","target":"www.example.test","locations":["sin"]}`, nil, &p)
	if resp.StatusCode != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "locations[0]" || !strings.Contains(p.Detail, `"sin" (Singapore)`) {
		t.Errorf("a measurement at an offline location: %d %+v, want 400 naming it", resp.StatusCode, p)
	}
	var list struct{ Measurements []map[string]any }
	if ts.get(t, "/api/v1/measurements", &list); len(list.Measurements) != 0 {
		t.Errorf("the refused measurement was stored: %+v", list.Measurements)
	}
}

func TestLocationUnknownIsNull(t *testing.T) {
	ts := startServer(t, Config{})
	var v1 struct {
		Locations []map[string]any `json:"locations"`
	}
	ts.get(t, "/api/v1/locations", &v1)
	if len(v1.Locations) != 1 || v1.Locations[0]["latitude"] != nil || v1.Locations[0]["longitude"] != nil {
		t.Errorf("the default location %+v, want latitude and longitude null (unknown), never 0,0", v1.Locations)
	}
}

func (ts *testServer) metricsText(t *testing.T) string {
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
