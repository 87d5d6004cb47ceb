package scan

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// maxSPFLookups is RFC 7208 §4.6.4's limit on DNS-querying terms.
const maxSPFLookups = 10

// checkSPF judges the domain's SPF record: one record, valid terms, and
// at most 10 DNS lookups counting those of included records.
func (s *scanner) checkSPF(ctx context.Context, recs []string) {
	switch {
	case len(recs) == 0:
		s.rp.add("spf_none", SevNotice, "no SPF record (TXT v=spf1): receivers cannot tell which hosts may send the domain's mail")
		return
	case len(recs) > 1:
		s.rp.add("spf_multiple", SevError, fmt.Sprintf("%d SPF records; RFC 7208 §4.5 makes that a permanent error", len(recs)))
		return
	}
	sp := &spfWalk{s: s, seen: map[string]bool{dns.CanonicalName(s.zone): true}}
	sp.record(ctx, s.zone, recs[0], 0)
	if sp.lookups > maxSPFLookups {
		s.rp.add("spf_too_many_lookups", SevError, fmt.Sprintf("evaluating the SPF record takes %d DNS lookups (%s); RFC 7208 allows 10", sp.lookups, strings.Join(sp.trail, ", ")))
	}
}

// spfWalk counts lookups through includes and redirects.
type spfWalk struct {
	s       *scanner
	lookups int
	trail   []string
	seen    map[string]bool
}

func (sp *spfWalk) record(ctx context.Context, domain, rec string, depth int) {
	s := sp.s
	terms := strings.Fields(rec)[1:]
	for _, term := range terms {
		t := strings.ToLower(term)
		if strings.ContainsAny(t[:1], "+-~?") {
			t = t[1:]
		}
		name, arg, _ := strings.Cut(t, ":")
		if k, v, ok := strings.Cut(t, "="); ok && !strings.Contains(k, ":") {
			name, arg = k, v
		}
		name, _, _ = strings.Cut(name, "/")
		switch name {
		case "all":
			if strings.HasPrefix(term, "+") || term == "all" {
				s.rp.add("spf_pass_all", SevWarning, fmt.Sprintf("the SPF record of %s ends in %s: anyone may send as the domain", domain, term))
			}
		case "ip4", "ip6":
			if _, err := netip.ParsePrefix(arg); err != nil {
				if _, err := netip.ParseAddr(arg); err != nil {
					s.rp.add("spf_syntax", SevError, fmt.Sprintf("the SPF term %q of %s is not an address or prefix", term, domain))
				}
			}
		case "a", "mx", "ptr", "exists", "include", "redirect":
			sp.lookups++
			sp.trail = append(sp.trail, domain+" "+term)
			if name == "ptr" {
				s.rp.add("spf_ptr", SevWarning, fmt.Sprintf("the SPF record of %s uses ptr, which RFC 7208 §5.5 says not to", domain))
			}
			if (name == "include" || name == "redirect" || name == "exists") && arg == "" {
				s.rp.add("spf_syntax", SevError, fmt.Sprintf("the SPF term %q of %s has no domain", term, domain))
				continue
			}
			if (name == "include" || name == "redirect") && depth < 10 && !strings.Contains(arg, "%") {
				sp.follow(ctx, arg, depth)
			}
		case "exp":
		default:
			if !strings.Contains(t, "=") {
				s.rp.add("spf_syntax", SevError, fmt.Sprintf("the SPF term %q of %s is no mechanism RFC 7208 knows", term, domain))
			}
		}
	}
}

// follow reads an included (or redirected-to) domain's SPF record.
func (sp *spfWalk) follow(ctx context.Context, domain string, depth int) {
	domain = dns.CanonicalName(domain)
	if sp.seen[domain] {
		return
	}
	sp.seen[domain] = true
	recs, _, err := sp.s.lookup(ctx, domain, dns.TypeTXT)
	if err != nil {
		sp.s.rp.add("spf_include_unresolvable", SevError, fmt.Sprintf("the SPF record includes %s, which could not be resolved: %v", domain, err))
		return
	}
	spf := txts(recs, "v=spf1")
	if len(spf) != 1 {
		sp.s.rp.add("spf_include_missing", SevError, fmt.Sprintf("the SPF record includes %s, which has %d SPF records (a permanent error)", domain, len(spf)))
		return
	}
	sp.record(ctx, domain, spf[0], depth+1)
}
