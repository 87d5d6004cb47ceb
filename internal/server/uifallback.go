package server

import (
	"io/fs"
	"net/http"
)

// uiNotBuiltPage is served for the web UI's routes by a binary built
// without the bundle (a plain `go build` or `go install` from a clone).
const uiNotBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dnsscience: web UI not built</title></head>
<body>
<h1>The web UI was not built into this binary</h1>
<p>This dnsscience binary was built with the Go toolchain alone, so it holds no web UI bundle.
The JSON API (<a href="/api/openapi.json">/api/openapi.json</a>), <a href="/health">/health</a> and <a href="/metrics">/metrics</a> work.</p>
<p>To get the UI, build from a checkout with Node.js and npm installed:</p>
<pre>make build      # builds the UI (make web) and the binary bin/dnsscience with it embedded</pre>
<p>or <code>make web</code> and then <code>go build ./cmd/dnsscience</code>.</p>
</body></html>
`

// uiBuilt reports whether dist holds the built UI (its index.html).
func uiBuilt(dist fs.FS) bool {
	_, err := fs.Stat(dist, "index.html")
	return err == nil
}

// serveUINotBuilt answers a UI route with the page saying the UI was not
// built, when dist lacks index.html, and reports whether it did.
func serveUINotBuilt(w http.ResponseWriter, dist fs.FS) bool {
	if uiBuilt(dist) {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(uiNotBuiltPage))
	return true
}
