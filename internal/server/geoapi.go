package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"time"

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
func prepareGeo(ctx context.Context, s *Server, target string, raw json.RawMessage) (runFunc, error) {
	if err := decodeOptions(raw, &struct{}{}); err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	var host string
	for _, part := range strings.Split(target, ",") {
		part = strings.TrimSpace(part)
		if a, err := netip.ParseAddr(part); err == nil {
			addrs = append(addrs, a)
			continue
		}
		if _, err := targetName(part); err != nil || strings.Contains(target, ",") {
			return nil, fieldError("target", "%q is neither an IP address nor a host name; give addresses separated by commas, or one host name", part)
		}
		host = part
	}
	return func(ctx context.Context, _ func(string, any)) (any, error) {
		if host != "" {
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			found, err := s.resolver.LookupNetIP(lctx, "ip", host)
			if err != nil {
				return nil, err
			}
			addrs = found
		}
		return map[string]any{"target": target, "addresses": s.geo.Enrich(ctx, addrs)}, nil
	}, nil
}

// emptyGeo is a geo DB with no data: it classifies special-purpose
// addresses and says that nothing else is loaded.
func emptyGeo() *geo.DB {
	db, _ := geo.Open(geo.Config{})
	return db
}
