package scan

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// delegation is what the walk from the root found about the zone and its
// parent.
type delegation struct {
	parent      string
	parentNS    []string                // the parent's servers' names
	parentAddr  string                  // the parent server that referred (ip#port)
	delegatedNS []string                // the zone's NS set as the parent has it
	glue        map[string][]netip.Addr // the parent's glue
}

// delegation walks from the roots to the domain, asking every server of
// every zone, and maps the walk's findings; false when the domain does
// not resolve (NXDOMAIN or a broken delegation: error findings).
func (s *scanner) delegation(ctx context.Context) (*delegation, bool) {
	res, err := s.tracer(true).Trace(ctx, s.domain, dns.TypeSOA, nil)
	if err != nil {
		s.rp.add("delegation_broken", SevError, fmt.Sprintf("the delegation from the root to %s could not be followed: %v", s.domain, err))
		return nil, false
	}
	d := &delegation{glue: map[string][]netip.Addr{}}
	var last dnsq.TraceStep
	for _, st := range res.Steps {
		if st.Kind == "root" {
			continue
		}
		if n := len(s.rp.r.Path); n == 0 || s.rp.r.Path[n-1] != st.Zone {
			s.rp.r.Path = append(s.rp.r.Path, st.Zone)
		}
		last = st
	}
	s.zone = last.Zone
	s.rp.r.Zone = s.zone
	if res.Rcode == "NXDOMAIN" {
		s.rp.add("domain_nxdomain", SevError, fmt.Sprintf("%s does not exist: the servers of %s answer NXDOMAIN", s.domain, last.Zone), last.Server+" ("+last.Addr+")")
		return nil, false
	}
	if !dnsq.SameName(s.zone, s.domain) {
		s.rp.add("not_zone_apex", SevNotice, fmt.Sprintf("%s is not a zone of its own; the zone %s was scanned", s.domain, s.zone))
	}
	for _, st := range res.Steps {
		if st.Kind == "referral" && dnsq.SameName(st.NextZone, s.zone) {
			d.parent, d.parentAddr = st.Zone, st.Addr
		}
	}
	for _, st := range res.Steps {
		if st.Kind == "referral" && dnsq.SameName(st.NextZone, d.parent) || d.parent == "." && st.Kind == "root" {
			d.parentNS = nsOf(st.Records, d.parent)
		}
	}
	if d.parentAddr != "" {
		s.referral(ctx, d)
	}
	s.mapTrace(res.Findings, d)
	return d, true
}

func nsOf(recs []dnsq.Record, zone string) []string {
	var out []string
	for _, r := range recs {
		if r.Type == "NS" && dnsq.SameName(r.Name, zone) {
			out = append(out, dns.CanonicalName(r.Data))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// referral asks the parent's server again for the delegation, for the NS
// set and glue as the parent has them.
func (s *scanner) referral(ctx context.Context, d *delegation) {
	host, port, _ := strings.Cut(d.parentAddr, "#")
	resp, err := s.client().Exchange(ctx, dnsq.Server{Transport: dnsq.UDP, Addr: net.JoinHostPort(host, port)}, dnsq.Query{Name: s.zone, Type: dns.TypeNS, NoRecurse: true})
	if err != nil {
		return
	}
	for _, rr := range resp.Msg.Ns {
		if ns, ok := rr.(*dns.NS); ok && dnsq.SameName(ns.Hdr.Name, s.zone) {
			d.delegatedNS = append(d.delegatedNS, dns.CanonicalName(ns.Ns))
		}
	}
	for _, rr := range resp.Msg.Extra {
		name := dns.CanonicalName(rr.Header().Name)
		switch v := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
				d.glue[name] = append(d.glue[name], a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA); ok {
				d.glue[name] = append(d.glue[name], a)
			}
		}
	}
	slices.Sort(d.delegatedNS)
}

// mapTrace turns the all-servers walk's findings into scan findings. The
// zone's and the parent's servers are checked one by one elsewhere, so
// their lame, unreachable and serial findings are left to that check.
func (s *scanner) mapTrace(fs []dnsq.Finding, d *delegation) {
	for _, f := range fs {
		own := dnsq.SameName(f.Zone, s.zone) || dnsq.SameName(f.Zone, d.parent)
		var servers []string
		if f.Server != "" {
			servers = []string{f.Server}
		}
		switch {
		case f.Kind == "ns_differs":
			s.rp.add("ns_parent_child_differ", SevWarning, f.Detail, servers...)
		case f.Kind == "glue_differs":
			s.rp.add("glue_mismatch", SevError, f.Detail, servers...)
		case f.Kind == "referral_differs":
			s.rp.add("referral_differs", SevWarning, fmt.Sprintf("the servers of %s refer differently: %s", f.Zone, f.Detail), servers...)
		case f.Kind == "answer_differs" && own:
			// The SOA asked differs only in serials: soa_serial_differs.
		case !own:
			s.rp.add("path_"+f.Kind, SevWarning, fmt.Sprintf("on the path, at %s: %s", f.Zone, f.Detail), servers...)
		}
	}
}
