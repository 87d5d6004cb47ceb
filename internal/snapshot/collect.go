package snapshot

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// collector gathers records into RRsets, each record once.
type collector struct {
	max, n int
	sets   map[[2]string]*set
}

type set struct {
	ttl  uint32
	data map[string]bool
}

func newCollector(max int) *collector { return &collector{max: max, sets: map[[2]string]*set{}} }

func (c *collector) add(rrs ...dns.RR) error {
	for _, rr := range rrs {
		h := rr.Header()
		if slices.Contains(skipped, h.Rrtype) || h.Rrtype == dns.TypeOPT || h.Rrtype == dns.TypeTSIG {
			continue
		}
		key := [2]string{strings.ToLower(h.Name), dnsq.TypeString(h.Rrtype)}
		s := c.sets[key]
		if s == nil {
			s = &set{ttl: h.Ttl, data: map[string]bool{}}
			c.sets[key] = s
		}
		s.ttl = min(s.ttl, h.Ttl)
		d := dnsq.RData(rr)
		if !s.data[d] {
			s.data[d] = true
			if c.n++; c.n > c.max {
				return fmt.Errorf("%w: more than %d records", ErrTooBig, c.max)
			}
		}
	}
	return nil
}

func (c *collector) rrsets() []RRset {
	out := make([]RRset, 0, len(c.sets))
	for k, s := range c.sets {
		rs := RRset{Name: k[0], Type: k[1], TTL: s.ttl}
		for d := range s.data {
			rs.Data = append(rs.Data, d)
		}
		slices.Sort(rs.Data)
		out = append(out, rs)
	}
	sortRRsets(out)
	return out
}

// sortRRsets orders RRsets by owner name in DNS order (the apex first,
// then each name before the names below it) and then by type.
func sortRRsets(rs []RRset) {
	slices.SortFunc(rs, func(a, b RRset) int { return compareKeys(a.Name, a.Type, b.Name, b.Type) })
}

// compareKeys orders name/type pairs as sortRRsets does.
func compareKeys(an, at, bn, bt string) int {
	if c := compareNames(an, bn); c != 0 {
		return c
	}
	return strings.Compare(at, bt)
}

// compareNames compares names label by label from the right.
func compareNames(a, b string) int {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}
