package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// scanTypes are a domain's main records, as the platform this replaces
// scanned them.
var scanTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeMX, dns.TypeTXT, dns.TypeSOA, dns.TypeCAA}

const scanTTL = 60 * time.Second

// Scan is a domain's main records.
type Scan struct {
	Success bool                `json:"success"`
	Domain  string              `json:"domain"`
	Records map[string][]string `json:"records"` // type → record data (as dig +short)
	DMARC   []string            `json:"dmarc"`   // TXT at _dmarc.DOMAIN
	Errors  map[string]string   `json:"errors,omitempty"`
	When    time.Time           `json:"when"`
	Cached  bool                `json:"cached"`
}

// getScan answers GET /api/scan/{domain}, cached for 60 s.
func (s *Server) getScan(w http.ResponseWriter, r *http.Request) error {
	name, err := dnsq.NormalizeName(r.PathValue("domain"))
	if err != nil {
		return fieldError("domain", "%v", strings.TrimPrefix(err.Error(), "bad domain name: "))
	}
	writeJSON(w, http.StatusOK, s.scan(r.Context(), name))
	return nil
}

func (s *Server) scan(ctx context.Context, name string) Scan {
	srv := s.cfg.Upstream[0]
	key := "scan|" + strings.ToLower(name)
	if sc, ok := s.scanCache.get(key); ok {
		s.metrics.cacheResult("scan", true)
		sc.Cached = true
		return sc
	}
	s.metrics.cacheResult("scan", false)
	sc := Scan{Success: true, Domain: name, Records: map[string][]string{}, DMARC: []string{}, When: s.cfg.Now().UTC()}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ask := func(qname string, t uint16, store func([]string)) {
		defer wg.Done()
		reply, _, err := s.lookup(ctx, srv, qname, t)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if sc.Errors == nil {
				sc.Errors = map[string]string{}
			}
			sc.Errors[dnsq.TypeString(t)] = err.Error()
			return
		}
		store(answerData(reply, t))
	}
	for _, t := range scanTypes {
		wg.Add(1)
		go ask(name, t, func(d []string) { sc.Records[dnsq.TypeString(t)] = d })
	}
	wg.Add(1)
	go ask("_dmarc."+name, dns.TypeTXT, func(d []string) { sc.DMARC = d })
	wg.Wait()
	sc.Success = len(sc.Errors) == 0
	s.scanCache.put(key, sc, scanTTL)
	return sc
}

// answerData keeps the data of the answer records of type t, sorted.
func answerData(r dnsq.Reply, t uint16) []string {
	out := []string{}
	for _, rr := range r.Answer {
		if rr.Type == dnsq.TypeString(t) {
			out = append(out, rr.Data)
		}
	}
	slices.Sort(out)
	return out
}

// Comparison is two domains' records side by side.
type Comparison struct {
	Success     bool                           `json:"success"`
	Domains     [2]string                      `json:"domains"`
	Records     map[string]map[string][]string `json:"records"` // type → domain → data
	Differences []string                       `json:"differences"`
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
	var scans [2]Scan
	var wg sync.WaitGroup
	for i := range names {
		wg.Add(1)
		go func() { defer wg.Done(); scans[i] = s.scan(r.Context(), names[i]) }()
	}
	wg.Wait()
	c := Comparison{Success: scans[0].Success && scans[1].Success, Domains: names, Records: map[string]map[string][]string{}, Differences: []string{}}
	for _, t := range scanTypes {
		ts := dnsq.TypeString(t)
		a, b := scans[0].Records[ts], scans[1].Records[ts]
		c.Records[ts] = map[string][]string{names[0]: a, names[1]: b}
		if !slices.Equal(a, b) {
			c.Differences = append(c.Differences, ts)
		}
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
