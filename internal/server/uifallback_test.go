package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// TestUINotBuilt: a bundle without index.html (a binary built by `go build`
// alone) answers the UI routes with a page saying how to build the UI; a
// bundle with it is left to the normal handler.
func TestUINotBuilt(t *testing.T) {
	t.Parallel()
	for name, dist := range map[string]fstest.MapFS{
		"empty":       {},
		"assets only": {"app.js": {Data: []byte("x")}},
		"docs only":   {"docs/index.html": {Data: []byte("<html>")}},
	} {
		w := httptest.NewRecorder()
		if !serveUINotBuilt(w, dist) {
			t.Errorf("%s: bundle without index.html not reported as not built", name)
			continue
		}
		body := w.Body.String()
		if w.Code != http.StatusServiceUnavailable || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "web UI was not built") || !strings.Contains(body, "make build") || !strings.Contains(body, "make web") {
			t.Errorf("%s: %d %q\n%s; want 503 HTML naming make build and make web", name, w.Code, w.Header().Get("Content-Type"), body)
		}
	}
	w := httptest.NewRecorder()
	if serveUINotBuilt(w, fstest.MapFS{"index.html": {Data: []byte(`<div id="app">`)}}) || w.Body.Len() != 0 {
		t.Errorf("a built bundle was answered by the fallback: %q", w.Body.String())
	}
}
