package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// maxCacheTTL caps how long a DNS answer is served from cache.
const maxCacheTTL = 300 * time.Second

// getDNS answers GET /api/v1/dns/{name}/{type}: one query to the upstream
// resolver (or ?server=NAME, a shipped resolver), cached within the TTL.
func (s *Server) getDNS(w http.ResponseWriter, r *http.Request) error {
	name, err := dnsq.NormalizeName(r.PathValue("name"))
	if err != nil {
		return fieldError("name", "%v", strings.TrimPrefix(err.Error(), "bad domain name: "))
	}
	qtype, ok := dnsq.ParseType(r.PathValue("type"))
	if !ok {
		return fieldError("type", "unknown record type %q; want a type name such as A, AAAA, MX, TXT, HTTPS or TYPEnnn", r.PathValue("type"))
	}
	srv, err := s.upstream(r.URL.Query().Get("server"))
	if err != nil {
		return err
	}
	reply, cached, err := s.lookup(r.Context(), srv, name, qtype)
	if err != nil {
		return err
	}
	w.Header().Set("X-Cache", map[bool]string{true: "HIT", false: "MISS"}[cached])
	writeJSON(w, http.StatusOK, reply)
	return nil
}

// upstream picks the resolver: the configured upstream, or a shipped or
// configured resolver by name. Arbitrary addresses are not accepted here.
func (s *Server) upstream(name string) (dnsq.Server, error) {
	if name == "" {
		return s.cfg.Upstream[0], nil
	}
	r, ok := dnsq.FindResolver(name, s.cfg.Resolvers)
	if !ok {
		return dnsq.Server{}, fieldError("server", "unknown resolver %q; see GET /api/v1/resolvers for the names accepted", name)
	}
	return r.Server(dnsq.UDP)
}

// lookup queries through the cache.
func (s *Server) lookup(ctx context.Context, srv dnsq.Server, name string, qtype uint16) (dnsq.Reply, bool, error) {
	key := srv.String() + "|" + strings.ToLower(name) + "|" + dnsq.TypeString(qtype)
	if reply, ok := s.dnsCache.get(key); ok {
		s.metrics.cacheResult("dns", true)
		return reply, true, nil
	}
	s.metrics.cacheResult("dns", false)
	resp, err := s.client.Exchange(ctx, srv, dnsq.Query{Name: name, Type: qtype})
	if err != nil {
		return dnsq.Reply{}, false, &Problem{Type: problemBase + "upstream", Title: "DNS query failed", Status: http.StatusBadGateway, Detail: err.Error()}
	}
	reply := dnsq.NewReply(resp)
	s.dnsCache.put(key, reply, cacheTTL(resp.Msg))
	return reply, false, nil
}

// cacheTTL is the lowest TTL in the answer and authority sections, capped;
// SERVFAIL and other errors are not cached.
func cacheTTL(m *dns.Msg) time.Duration {
	if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return 0
	}
	ttl := maxCacheTTL
	for _, rr := range append(append([]dns.RR{}, m.Answer...), m.Ns...) {
		ttl = min(ttl, time.Duration(rr.Header().Ttl)*time.Second)
	}
	return ttl
}

// getResolvers answers GET /api/v1/resolvers.
func (s *Server) getResolvers(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"resolvers": s.cfg.Resolvers})
	return nil
}
