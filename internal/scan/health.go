package scan

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnssec"
)

// Severities of findings.
const (
	SevError   = "error"
	SevWarning = "warning"
	SevNotice  = "notice"
)

// Finding is one thing the health scan found: a stable code, how bad it
// is, the servers involved and the evidence.
type Finding struct {
	Code     string   `json:"code"`
	Severity string   `json:"severity"`
	Servers  []string `json:"servers,omitempty"`
	Evidence string   `json:"evidence"`
}

// Options configure a health scan.
type Options struct {
	// Roots are the root servers (nil: the shipped root hints); Port is the
	// port of every name server asked (0: 53). Tests point both at a
	// hierarchy on loopback.
	Roots []dnsq.NSHost
	Port  int
	// Anchors are the DNSSEC trust anchors; nil means the shipped root KSK.
	Anchors []dns.RR
	// Client sends every query (its Dialer enforces the target policy);
	// nil means 2 s timeouts and 2 tries.
	Client *dnsq.Client
	// NoIPv6 leaves the name servers' IPv6 addresses out.
	NoIPv6 bool
	// Concurrency bounds the servers checked at once; 0 means 32.
	Concurrency int
	// ASN, when set, gives an address's origin AS for the network spread.
	ASN func(netip.Addr) uint32
	// Now is the clock signatures are judged by; nil means time.Now.
	Now func() time.Time
}

// Report is a domain's health scan. Its first fields are the old
// /api/scan shape (success, domain, records, dmarc, when).
type Report struct {
	Success  bool                `json:"success"`
	Domain   string              `json:"domain"`
	Records  map[string][]string `json:"records"`
	DMARC    []string            `json:"dmarc"`
	When     time.Time           `json:"when"`
	Verdict  string              `json:"verdict"` // ok, warning, error
	Zone     string              `json:"zone"`
	Counts   map[string]int      `json:"counts"`
	Findings []Finding           `json:"findings"`
	Servers  []ServerCheck       `json:"servers"`
	DNSSEC   *dnssec.Result      `json:"dnssec"`
	Path     []string            `json:"path"` // zones from the root down
	TookMs   float64             `json:"took_ms"`
}

// report collects findings from the scan's goroutines.
type report struct {
	mu sync.Mutex
	r  *Report
}

func (rp *report) add(code, sev, evidence string, servers ...string) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	slices.Sort(servers)
	rp.r.Findings = append(rp.r.Findings, Finding{Code: code, Severity: sev, Servers: servers, Evidence: evidence})
}

// Health scans a domain from the root down: its delegation and every
// name server of it and its parent (UDP and TCP, IPv4 and IPv6, at once),
// its DNSSEC chain, and its mail and web records.
func Health(ctx context.Context, domain string, o Options) *Report {
	start := time.Now()
	domain = dns.CanonicalName(domain)
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	r := &Report{Domain: domain, Records: map[string][]string{}, DMARC: []string{}, When: now().UTC(), Findings: []Finding{}, Servers: []ServerCheck{}, Path: []string{}}
	rp := &report{r: r}
	s := &scanner{o: o, rp: rp, domain: domain}
	s.run(ctx)
	sortFindings(r.Findings)
	r.Counts = map[string]int{SevError: 0, SevWarning: 0, SevNotice: 0}
	for _, f := range r.Findings {
		r.Counts[f.Severity]++
	}
	switch {
	case r.Counts[SevError] > 0:
		r.Verdict = SevError
	case r.Counts[SevWarning] > 0:
		r.Verdict = SevWarning
	default:
		r.Verdict = "ok"
	}
	r.Success = r.Counts[SevError] == 0
	r.TookMs = dnsq.Millis(time.Since(start))
	return r
}

func sortFindings(fs []Finding) {
	rank := map[string]int{SevError: 0, SevWarning: 1, SevNotice: 2}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if d := rank[a.Severity] - rank[b.Severity]; d != 0 {
			return d
		}
		return strings.Compare(a.Code, b.Code)
	})
}

// scanner is one scan's state.
type scanner struct {
	o      Options
	rp     *report
	domain string
	zone   string
}

func (s *scanner) client() *dnsq.Client {
	if s.o.Client != nil {
		return s.o.Client
	}
	return &dnsq.Client{Timeout: 2 * time.Second, Tries: 2}
}

func (s *scanner) tracer(all bool) *dnsq.Tracer {
	return &dnsq.Tracer{Client: s.client(), Roots: s.o.Roots, Port: s.o.Port, IPv6: !s.o.NoIPv6, AllServers: all}
}

func (s *scanner) run(ctx context.Context) {
	del, ok := s.delegation(ctx)
	if !ok {
		return
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.checkServers(ctx, del) }()
	go func() { defer wg.Done(); s.checkDNSSEC(ctx) }()
	go func() { defer wg.Done(); s.checkRecords(ctx) }()
	wg.Wait()
}

// lookup resolves (name, qtype) iteratively from the roots: the answer's
// records and the rcode.
func (s *scanner) lookup(ctx context.Context, name string, qtype uint16) ([]dnsq.Record, string, error) {
	res, err := s.tracer(false).Trace(ctx, name, qtype, nil)
	if err != nil {
		return nil, "", fmt.Errorf("resolving %s %s: %w", name, dnsq.TypeString(qtype), err)
	}
	return res.Answer, res.Rcode, nil
}

func (s *scanner) checkDNSSEC(ctx context.Context) {
	v := &dnssec.Validator{Tracer: s.tracer(false), Anchors: s.o.Anchors, Now: s.o.Now}
	res := v.Validate(ctx, dnssec.Request{Name: s.zone, Type: dns.TypeSOA, Probe: "_dnsscience-nx." + s.zone})
	s.rp.mu.Lock()
	s.rp.r.DNSSEC = res
	s.rp.mu.Unlock()
	switch res.Status {
	case dnssec.Bogus:
		s.rp.add(res.Code, SevError, fmt.Sprintf("DNSSEC validation fails at %s: %s", res.BrokenAt, res.Reason))
	case dnssec.Indeterminate:
		s.rp.add("dnssec_indeterminate", SevWarning, "DNSSEC could not be validated: "+res.Reason)
	case dnssec.Insecure:
		s.rp.add("dnssec_unsigned", SevNotice, res.Reason)
	}
	for _, a := range res.Advice {
		s.rp.add(a.Code, a.Severity, a.Zone+": "+a.Detail)
	}
}
