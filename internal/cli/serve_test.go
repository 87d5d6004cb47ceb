package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/geo/geotest"
)

// TestServeStartsAndStopsCleanly runs `dnsscience serve` in-process with a
// config file, checks /health and /ready, and stops it with the context
// (as SIGTERM does).
func TestServeStartsAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	conf := filepath.Join(dir, "dnsscience.yaml")
	yaml := fmt.Sprintf("listen: %s\ndata: %s\nupstream: [127.0.0.1:53]\nretention: 7d\nlocations:\n  - {id: fra, name: Frankfurt, provider: test, latitude: 50.1, longitude: 8.7}\n", addr, filepath.Join(dir, "data"))
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"dnsscience", "serve", "--config", conf, "--geo-data", dir}, strings.NewReader(""), &out, &errb)
	}()
	var health map[string]any
	resp := getWhenServing(t, func() (*http.Response, error) { return http.Get("http://" + addr + "/health") }, &errb)
	_ = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if health["status"] != "ok" {
		t.Errorf("/health: %v", health)
	}
	resp, err := http.Get("http://" + addr + "/api/remote-locations")
	if err != nil {
		t.Fatal(err)
	}
	var locs struct {
		Locations []struct {
			ID     string
			Lat    *float64
			Status string
		} `json:"locations"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&locs)
	resp.Body.Close()
	if len(locs.Locations) != 2 || locs.Locations[0].ID != "local" || locs.Locations[1].ID != "fra" {
		t.Errorf("locations: %+v, want the server's own (local) then fra from the config file", locs)
	} else if l, fra := locs.Locations[0], locs.Locations[1]; l.Lat != nil || l.Status != "online" || fra.Lat == nil || *fra.Lat != 50.1 || fra.Status != "offline" {
		t.Errorf("local: lat %v %s (want null: no coordinates, no geo data; online); fra: lat %v %s (want 50.1, offline: no agent)", l.Lat, l.Status, fra.Lat, fra.Status)
	}
	// No geo data in the directory given: /ready says so with 503.
	resp, err = http.Get("http://" + addr + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/ready without geo data: %d, want 503", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after shutdown; stderr:\n%s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	if !strings.Contains(out.String(), "serving on http://"+addr) || !strings.Contains(errb.String(), `"msg":"shutting down"`) {
		t.Errorf("stdout %q stderr %q", out.String(), errb.String())
	}
}

func TestServeBadConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(conf, []byte("listen: :1\ncolour: red\n"), 0o644)
	_, stderr, code := runCLI(t, "serve", "--config", conf)
	if code != ExitUsage || !strings.Contains(stderr, conf+`:2: unknown setting "colour"`) {
		t.Errorf("exit %d stderr %q, want 2 naming the unknown field", code, stderr)
	}
	_, stderr, code = runCLI(t, "serve", "--retention", "forever")
	if code != ExitUsage || !strings.Contains(stderr, "--retention") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

// TestServeTLSWithHTTPRedirect serves over TLS with a certificate minted in
// the test and checks that the HTTP listener redirects to it.
func TestServeTLSWithHTTPRedirect(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t, "serve CA")
	leaf := ca.Leaf(t, "127.0.0.1")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", leaf.Certificate[0])
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	httpsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- Run(ctx, []string{"dnsscience", "serve", "--listen", httpsAddr, "--data", filepath.Join(dir, "data"),
			"--upstream", "127.0.0.1:53", "--tls-cert", certFile, "--tls-key", keyFile, "--redirect-http", httpAddr}, strings.NewReader(""), &out, &errb)
	}()
	defer func() { cancel(); <-done }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp := getWhenServing(t, func() (*http.Response, error) { return client.Get("https://" + httpsAddr + "/health") }, &errb)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("https /health: %d HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	resp, err = client.Get("http://" + httpAddr + "/api/v1/locations?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://" + httpsAddr + "/api/v1/locations?x=1"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
		t.Errorf("http redirect: %d to %q, want 308 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeBadRateLimitAndLogLevel(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--rate-limit", "dns=fast"},
		{"serve", "--log-level", "loud"},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != ExitUsage || !strings.Contains(stderr, args[1]) {
			t.Errorf("%v: exit %d stderr %q, want exit 2 naming %s", args, code, stderr, args[1])
		}
	}
}

// TestServeRateLimitFlag starts serve with a raised dns quota and a quiet
// log, and checks the quota a DNS answer announces and that no access log
// line was written.
func TestServeRateLimitFlag(t *testing.T) {
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"dnsscience", "serve", "--listen", addr, "--data", filepath.Join(dir, "data"),
			"--upstream", "127.0.0.1:53", "--geo-data", dir, "--rate-limit", "dns=5000/1m", "--rate-limit", "dns=7000/1m",
			"--log-level", "warn"}, strings.NewReader(""), &out, &errb)
	}()
	// A bad name: refused before any query, but after the rate limit.
	resp := getWhenServing(t, func() (*http.Response, error) { return http.Get("http://" + addr + "/api/v1/dns/bad..name/A") }, &errb)
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d: %s", code, errb.String())
	}
	if got := resp.Header.Get("X-RateLimit-Limit"); got != "7000" {
		t.Errorf("X-RateLimit-Limit %q, want 7000 (the last --rate-limit dns=... wins)", got)
	}
	if strings.Contains(errb.String(), `"msg":"request"`) {
		t.Errorf("access log written at --log-level warn: %s", errb.String())
	}
}

// getWhenServing retries get until the server started in the test answers
// (for 10 s at most) and returns its response.
func getWhenServing(t *testing.T, get func() (*http.Response, error), errb *bytes.Buffer) *http.Response {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := get()
		if err == nil {
			return resp
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v\n%s", err, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeOwnLocationFromGeo: without configured coordinates, the
// server's location comes from the geo data for --public-address, and its
// name from the environment.
func TestServeOwnLocationFromGeo(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "city.mmdb")
	geotest.WriteMMDB(t, city, "GeoLite2-City", 6, []geotest.Entry{{Prefix: "81.2.69.0/24",
		Data: geotest.MaxMindCity(geotest.Place{City: "London", CountryCode: "GB", Country: "United Kingdom", Lat: 51.5142, Lon: -0.0931})}})
	t.Setenv("DNSSCIENCE_LOCATION_NAME", "Lab")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"dnsscience", "serve", "--listen", addr, "--data", filepath.Join(dir, "data"), "--upstream", "127.0.0.1:53",
			"--geo-data", dir, "--geo-city", city, "--public-address", "81.2.69.142"}, strings.NewReader(""), &out, &errb)
	}()
	defer func() { cancel(); <-done }()
	resp := getWhenServing(t, func() (*http.Response, error) { return http.Get("http://" + addr + "/api/v1/locations") }, &errb)
	var locs struct {
		Locations []struct {
			ID, Name, City, Country string
			Latitude, Longitude     *float64
		} `json:"locations"`
	}
	err := json.NewDecoder(resp.Body).Decode(&locs)
	resp.Body.Close()
	if err != nil || len(locs.Locations) != 1 {
		t.Fatalf("locations: %+v, %v; want the server's own", locs, err)
	}
	l := locs.Locations[0]
	if l.ID != "local" || l.Name != "Lab" || l.City != "London" || l.Country != "United Kingdom" ||
		l.Latitude == nil || *l.Latitude != 51.5142 || l.Longitude == nil || *l.Longitude != -0.0931 {
		t.Errorf("own location %+v (lat %v lon %v); want local, Lab, London, United Kingdom at 51.5142,-0.0931", l, l.Latitude, l.Longitude)
	}
}
