package server

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUIRoutes checks the page shell, the assets (gzip when accepted), the
// API docs, the UI configuration and that nothing outside the bundle is served.
func TestUIRoutes(t *testing.T) {
	ts := startServer(t, Config{TileURL: "https://tiles.example.net/{z}/{x}/{y}.png", TileAttribution: "© Example Tiles"})
	fetch := func(path string, gz bool) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		} else {
			req.Header.Set("Accept-Encoding", "identity")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatalf("%s: bad gzip: %v", path, err)
			}
			r = zr
		}
		b, _ := io.ReadAll(r)
		return resp, string(b)
	}
	for _, p := range append([]string{"/"}, uiPages...) {
		resp, body := fetch(p, false)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, `<div id="app">`) {
			t.Errorf("GET %s: %d %s, want the page shell", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	resp, body := fetch("/ui/app.js", true)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || len(body) < 1000 {
		t.Errorf("GET /ui/app.js (gzip): %d encoding %q type %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"), len(body))
	}
	resp, plain := fetch("/ui/app.js", false)
	if resp.Header.Get("Content-Encoding") != "" || plain != body {
		t.Errorf("GET /ui/app.js (identity): encoding %q; want the same script uncompressed", resp.Header.Get("Content-Encoding"))
	}
	if resp, body := fetch("/ui/countries.json", true); resp.StatusCode != 200 || !strings.Contains(body, `"FeatureCollection"`) {
		t.Errorf("GET /ui/countries.json: %d, want the GeoJSON countries", resp.StatusCode)
	}
	if resp, body := fetch("/api/docs", false); resp.StatusCode != 200 || !strings.Contains(body, "swagger-ui-bundle.js") {
		t.Errorf("GET /api/docs: %d, want the API docs page", resp.StatusCode)
	}
	for _, p := range []string{"/ui/nope.js", "/ui/app.js.gz", "/nope"} {
		if resp, _ := fetch(p, false); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	// An unknown path: a browser gets the page shell with 404 (the script
	// shows "Page not found"); the API and non-HTML clients get a problem.
	for _, c := range []struct {
		path, accept, wantType string
	}{
		{"/no-such-page", "text/html,application/xhtml+xml", "text/html"},
		{"/no-such-page", "application/json", "application/problem+json"},
		{"/api/v1/no-such-route", "text/html", "application/problem+json"},
	} {
		req, _ := http.NewRequest("GET", ts.URL+c.path, nil)
		req.Header.Set("Accept", c.accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.wantType) {
			t.Errorf("GET %s (Accept %s): %d %s, want 404 %s", c.path, c.accept, resp.StatusCode, resp.Header.Get("Content-Type"), c.wantType)
		}
		if c.wantType == "text/html" && !strings.Contains(string(b), `<div id="app">`) {
			t.Errorf("GET %s (Accept %s): want the page shell, got %.100s", c.path, c.accept, b)
		}
	}
	// The mux cleans dot segments (a redirect); nothing outside the bundle is served.
	if resp, body := fetch("/ui/../ui.go", false); resp.StatusCode == 200 || strings.Contains(body, "package server") {
		t.Errorf("GET /ui/../ui.go: %d, want no source file", resp.StatusCode)
	}
	var cfg UIConfig
	if resp := ts.get(t, "/api/v1/ui-config", &cfg); resp.StatusCode != 200 || cfg.TileURL != "https://tiles.example.net/{z}/{x}/{y}.png" || cfg.TileAttribution != "© Example Tiles" || cfg.Version != "test" {
		t.Errorf("ui-config: %d %+v", resp.StatusCode, cfg)
	}
}
