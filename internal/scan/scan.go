// Package scan reads a domain's main records (the old platform's
// /api/scan) and compares two domains' records (/api/compare).
package scan

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// Types are a domain's main records, as the platform this replaces
// scanned them.
func Types() []uint16 {
	return []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeMX, dns.TypeTXT, dns.TypeSOA, dns.TypeCAA}
}

// Lookup asks one question (through a cache, say).
type Lookup func(ctx context.Context, name string, qtype uint16) (dnsq.Reply, error)

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

// Records asks for every main type of name, and the DMARC record, at once.
func Records(ctx context.Context, lookup Lookup, name string, now time.Time) Scan {
	sc := Scan{Success: true, Domain: name, Records: map[string][]string{}, DMARC: []string{}, When: now.UTC()}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ask := func(qname string, t uint16, keep func([]string)) {
		defer wg.Done()
		reply, err := lookup(ctx, qname, t)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if sc.Errors == nil {
				sc.Errors = map[string]string{}
			}
			sc.Errors[dnsq.TypeString(t)] = err.Error()
			return
		}
		keep(answerData(reply, t))
	}
	for _, t := range Types() {
		wg.Add(1)
		go ask(name, t, func(d []string) { sc.Records[dnsq.TypeString(t)] = d })
	}
	wg.Add(1)
	go ask("_dmarc."+name, dns.TypeTXT, func(d []string) { sc.DMARC = d })
	wg.Wait()
	sc.Success = len(sc.Errors) == 0
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

// Compare puts two scans side by side and lists the types that differ.
func Compare(a, b Scan) Comparison {
	c := Comparison{Success: a.Success && b.Success, Domains: [2]string{a.Domain, b.Domain}, Records: map[string]map[string][]string{}, Differences: []string{}}
	for _, t := range Types() {
		ts := dnsq.TypeString(t)
		ra, rb := a.Records[ts], b.Records[ts]
		c.Records[ts] = map[string][]string{a.Domain: ra, b.Domain: rb}
		if !slices.Equal(ra, rb) {
			c.Differences = append(c.Differences, ts)
		}
	}
	return c
}
