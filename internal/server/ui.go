package server

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// webdist holds the web UI bundle built from web/ (`make web`) under
// webdist/, which is not committed. The pattern also matches the committed
// webdist-placeholder.txt, so the package compiles without the bundle; the
// UI routes then serve a page saying how to build it (uifallback.go).
//
//go:embed all:webdist*
var webdist embed.FS

// uiPages are the paths answered with the single-page shell (index.html);
// the script renders the page named by the path.
var uiPages = []string{"/tools", "/visualtrace", "/dns", "/propagation", "/cert", "/http", "/ws", "/tcp", "/geo", "/diagnose", "/scan", "/domainhealth", "/compare", "/roots", "/snapshots", "/checks", "/status"}

// uiRoutes are the web UI's routes: the pages, their assets, the API docs
// and the UI's configuration.
func (s *Server) uiRoutes() []route {
	page := s.uiFile("index.html", "no-cache")
	rs := []route{
		{method: "GET", pattern: "/{$}", handler: page, undocumented: true},
		{method: "GET", pattern: "/api/docs", handler: s.uiFile("docs/index.html", "no-cache"), undocumented: true},
		{method: "GET", pattern: "/ui/{file...}", handler: http.HandlerFunc(s.uiAsset), undocumented: true},
		{method: "GET", pattern: "/api/v1/ui-config", handler: s.handle(s.getUIConfig)},
	}
	for _, p := range uiPages {
		rs = append(rs, route{method: "GET", pattern: p, handler: page, undocumented: true})
	}
	return rs
}

// uiNotFound answers an unknown route (the route table's catch-all): the
// page shell with status 404 for a browser's GET (the script shows "Page
// not found" and the tools), the JSON problem for the API, other methods
// and clients that do not ask for HTML.
func (s *Server) uiNotFound(w http.ResponseWriter, r *http.Request) {
	html := (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html")
	if strings.HasPrefix(r.URL.Path, "/api/") || !html {
		writeProblem(w, r, notFound("no such route; see /api/openapi.json"))
		return
	}
	s.serveBundleStatus(w, r, "index.html", "no-cache", http.StatusNotFound)
}

// uiFile serves one file of the bundle.
func (s *Server) uiFile(name, cache string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveBundle(w, r, name, cache)
	})
}

// uiAsset serves /ui/FILE from the bundle, compressed when the bundle has a
// .gz twin and the client accepts gzip.
func (s *Server) uiAsset(w http.ResponseWriter, r *http.Request) {
	name := path.Clean(r.PathValue("file"))
	if name == "." || strings.HasPrefix(name, "..") || strings.HasSuffix(name, ".gz") {
		writeProblem(w, r, notFound("no such file"))
		return
	}
	s.serveBundle(w, r, name, "public, max-age=3600")
}

func (s *Server) serveBundle(w http.ResponseWriter, r *http.Request, name, cache string) {
	s.serveBundleStatus(w, r, name, cache, http.StatusOK)
}

func (s *Server) serveBundleStatus(w http.ResponseWriter, r *http.Request, name, cache string, status int) {
	dist, _ := fs.Sub(webdist, "webdist")
	body, err := fs.ReadFile(dist, name)
	if err != nil {
		if serveUINotBuilt(w, dist) {
			return
		}
		writeProblem(w, r, notFound("no such file: "+name))
		return
	}
	h := w.Header()
	h.Set("Cache-Control", cache)
	h.Set("Content-Type", contentType(name))
	h.Add("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		if gz, err := fs.ReadFile(dist, name+".gz"); err == nil {
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

// UIConfig is what the pages need to know from the server's configuration.
type UIConfig struct {
	Version         string `json:"version"`
	TileURL         string `json:"tile_url,omitempty"`
	TileAttribution string `json:"tile_attribution,omitempty"`
}

// getUIConfig answers GET /api/v1/ui-config.
func (s *Server) getUIConfig(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, UIConfig{Version: s.cfg.Version, TileURL: s.cfg.TileURL, TileAttribution: s.cfg.TileAttribution})
	return nil
}
