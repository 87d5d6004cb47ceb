package server

import (
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/dnsscience/dnsscience/internal/geo"
)

// getGeo answers GET /api/v1/geo/{addr}: what is known about one address.
func (s *Server) getGeo(w http.ResponseWriter, r *http.Request) error {
	a, err := netip.ParseAddr(r.PathValue("addr"))
	if err != nil {
		return fieldError("addr", "%q is not an IPv4 or IPv6 address", r.PathValue("addr"))
	}
	writeJSON(w, http.StatusOK, s.geo.Lookup(a))
	return nil
}

// getGeoAbout answers GET /api/v1/geo/about: the data files in use and the
// attributions their licences require (the UI shows them). Files are named
// by their base name: the server's directories are not public.
func (s *Server) getGeoAbout(w http.ResponseWriter, _ *http.Request) error {
	st := s.geo.Status()
	for i := range st.Sources {
		src := &st.Sources[i]
		if src.Path != "" {
			src.Note = strings.ReplaceAll(src.Note, src.Path, filepath.Base(src.Path))
			src.Path = filepath.Base(src.Path)
		}
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// prepareGeo is the geo measurement: addresses (comma-separated) or a host
// name, whose addresses are looked up.
func emptyGeo() *geo.DB {
	db, _ := geo.Open(geo.Config{})
	return db
}
