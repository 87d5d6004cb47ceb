package server

import (
	"net/http"
	"net/netip"

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
// attributions their licences require (the UI shows them).
func (s *Server) getGeoAbout(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, s.geo.Status())
	return nil
}

// prepareGeo is the geo measurement: addresses (comma-separated) or a host
// name, whose addresses are looked up.
func emptyGeo() *geo.DB {
	db, _ := geo.Open(geo.Config{})
	return db
}
