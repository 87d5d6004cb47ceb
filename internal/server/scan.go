package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/scan"
)

const scanTTL = 60 * time.Second

// getScan answers GET /api/scan/{domain}, cached for 60 s.
func (s *Server) getScan(w http.ResponseWriter, r *http.Request) error {
	name, err := dnsq.NormalizeName(r.PathValue("domain"))
	if err != nil {
		return fieldError("domain", "%v", strings.TrimPrefix(err.Error(), "bad domain name: "))
	}
	writeJSON(w, http.StatusOK, s.scan(r.Context(), name))
	return nil
}

// scan is scan.Records through the caches.
func (s *Server) scan(ctx context.Context, name string) scan.Scan {
	key := "scan|" + strings.ToLower(name)
	if sc, ok := s.scanCache.get(key); ok {
		s.metrics.cacheResult("scan", true)
		sc.Cached = true
		return sc
	}
	s.metrics.cacheResult("scan", false)
	srv := s.cfg.Upstream[0]
	sc := scan.Records(ctx, func(ctx context.Context, qname string, t uint16) (dnsq.Reply, error) {
		reply, _, err := s.lookup(ctx, srv, qname, t)
		return reply, err
	}, name, s.cfg.Now())
	s.scanCache.put(key, sc, scanTTL)
	return sc
}

// getCompare answers GET /api/compare?domain1=A&domain2=B.
func (s *Server) getCompare(w http.ResponseWriter, r *http.Request) error {
	var names [2]string
	for i, field := range []string{"domain1", "domain2"} {
		v := r.URL.Query().Get(field)
		if v == "" {
			return fieldError(field, "missing; give two domains as ?domain1=example.com&domain2=example.org")
		}
		n, err := dnsq.NormalizeName(v)
		if err != nil {
			return fieldError(field, "%v", strings.TrimPrefix(err.Error(), "bad domain name: "))
		}
		names[i] = n
	}
	var scans [2]scan.Scan
	var wg sync.WaitGroup
	for i := range names {
		wg.Add(1)
		go func() { defer wg.Done(); scans[i] = s.scan(r.Context(), names[i]) }()
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, scan.Compare(scans[0], scans[1]))
	return nil
}
