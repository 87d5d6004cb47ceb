package server

import (
	"context"
	"fmt"
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
	e, cached, err := s.lookupEntry(r.Context(), srv, name, qtype)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("X-Cache", "MISS")
	if cached {
		h.Set("X-Cache", "HIT")
	}
	writeJSONBytes(w, http.StatusOK, e.body)
	return nil
}

// dnsEntry is a cached reply with its JSON encoding, so that a cache hit
// costs no encoding.
type dnsEntry struct {
	reply dnsq.Reply
	body  []byte
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
	e, cached, err := s.lookupEntry(ctx, srv, name, qtype)
	return e.reply, cached, err
}

// lookupEntry is lookup with the reply's JSON encoding.
func (s *Server) lookupEntry(ctx context.Context, srv dnsq.Server, name string, qtype uint16) (dnsEntry, bool, error) {
	key := srv.String() + "|" + strings.ToLower(name) + "|" + dnsq.TypeString(qtype)
	if e, ok := s.dnsCache.get(key); ok {
		s.metrics.cacheResult("dns", true)
		return e, true, nil
	}
	s.metrics.cacheResult("dns", false)
	resp, err := s.client.Exchange(ctx, srv, dnsq.Query{Name: name, Type: qtype})
	if err != nil {
		return dnsEntry{}, false, &Problem{Type: problemBase + "upstream", Title: "DNS query failed", Status: http.StatusBadGateway, Detail: err.Error()}
	}
	e := dnsEntry{reply: dnsq.NewReply(resp)}
	if e.body, err = encodeJSON(e.reply); err != nil {
		return dnsEntry{}, false, fmt.Errorf("encoding the DNS reply: %w", err)
	}
	s.dnsCache.put(key, e, cacheTTL(resp.Msg))
	return e, false, nil
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
