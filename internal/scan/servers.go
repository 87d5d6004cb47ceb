package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// ServerCheck is what one address of one name server did.
type ServerCheck struct {
	Zone      string  `json:"zone"`
	Name      string  `json:"name"`
	Addr      string  `json:"address"`
	UDP       bool    `json:"udp"`
	TCP       bool    `json:"tcp"`
	EDNS      bool    `json:"edns"`
	Auth      bool    `json:"authoritative"`
	Rcode     string  `json:"rcode,omitempty"`
	Serial    uint32  `json:"serial,omitempty"`
	RTTMs     float64 `json:"rtt_ms,omitempty"`
	Recursion bool    `json:"recursion"`
	AXFR      bool    `json:"axfr"`
	Error     string  `json:"error,omitempty"`
	soa       *dns.SOA
}

func (c ServerCheck) label() string { return fmt.Sprintf("%s (%s)", c.Name, c.Addr) }

// checkServers checks every address of every name server of the zone
// (the parent's NS set and the zone's own) and of the parent, at once.
func (s *scanner) checkServers(ctx context.Context, d *delegation) {
	childNS := s.childNS(ctx)
	names := slices.Clone(d.delegatedNS)
	names = append(names, childNS...)
	slices.Sort(names)
	names = slices.Compact(names)
	hosts := s.addresses(ctx, names, d.glue)
	parentHosts := s.addresses(ctx, d.parentNS, nil)
	var todo []ServerCheck
	for _, n := range names {
		if len(hosts[n]) == 0 {
			s.rp.add("ns_no_address", SevError, fmt.Sprintf("the name server %s has no address (no glue, no A or AAAA)", n), n)
		}
		for _, a := range hosts[n] {
			todo = append(todo, ServerCheck{Zone: s.zone, Name: n, Addr: a.String()})
		}
	}
	for _, n := range d.parentNS {
		for _, a := range parentHosts[n] {
			todo = append(todo, ServerCheck{Zone: d.parent, Name: n, Addr: a.String()})
		}
	}
	n := s.o.Concurrency
	if n <= 0 {
		n = 32
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			s.checkOne(ctx, &todo[i], dnsq.SameName(todo[i].Zone, s.zone))
		}()
	}
	wg.Wait()
	s.rp.mu.Lock()
	s.rp.r.Servers = todo
	s.rp.mu.Unlock()
	s.judgeServers(todo, names, hosts)
}

// childNS is the zone's NS set as its own servers give it.
func (s *scanner) childNS(ctx context.Context) []string {
	recs, _, err := s.lookup(ctx, s.zone, dns.TypeNS)
	if err != nil {
		return nil
	}
	return nsOf(recs, s.zone)
}

// addresses resolves each name server's IPv4 (and IPv6) addresses, adding
// the glue given.
func (s *scanner) addresses(ctx context.Context, names []string, glue map[string][]netip.Addr) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	types := []uint16{dns.TypeA}
	if !s.o.NoIPv6 {
		types = append(types, dns.TypeAAAA)
	}
	for _, n := range names {
		for _, a := range glue[n] {
			if a.Is4() || !s.o.NoIPv6 {
				out[n] = append(out[n], a)
			}
		}
		for _, t := range types {
			wg.Add(1)
			go func() {
				defer wg.Done()
				recs, _, err := s.lookup(ctx, n, t)
				if err != nil {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, r := range recs {
					if a, err := netip.ParseAddr(r.Data); err == nil && (r.Type == "A" || r.Type == "AAAA") {
						out[n] = append(out[n], a)
					}
				}
			}()
		}
	}
	wg.Wait()
	for n := range out {
		slices.SortFunc(out[n], func(a, b netip.Addr) int { return a.Compare(b) })
		out[n] = slices.Compact(out[n])
	}
	return out
}

func (s *scanner) server(addr string, t dnsq.Transport) dnsq.Server {
	port := s.o.Port
	if port == 0 {
		port = 53
	}
	return dnsq.Server{Transport: t, Addr: net.JoinHostPort(addr, strconv.Itoa(port))}
}

var errEnough = errors.New("first message read")

// checkOne asks one address for the zone's SOA over UDP and TCP and, for
// the zone's own servers, whether it recurses and transfers the zone to
// anyone.
func (s *scanner) checkOne(ctx context.Context, c *ServerCheck, own bool) {
	cl := s.client()
	resp, err := cl.Exchange(ctx, s.server(c.Addr, dnsq.UDP), dnsq.Query{Name: c.Zone, Type: dns.TypeSOA, NoRecurse: true})
	if err != nil {
		c.Error = err.Error()
	} else {
		m := resp.Msg
		c.UDP, c.RTTMs, c.Rcode, c.Auth = true, dnsq.Millis(resp.RTT), dnsq.RcodeString(m.Rcode), m.Authoritative
		c.EDNS = m.IsEdns0() != nil && !resp.NoEDNSRetry
		for _, rr := range m.Answer {
			if soa, ok := rr.(*dns.SOA); ok && dnsq.SameName(soa.Hdr.Name, c.Zone) {
				c.Serial, c.soa = soa.Serial, soa
			}
		}
	}
	if _, err := cl.Exchange(ctx, s.server(c.Addr, dnsq.TCP), dnsq.Query{Name: c.Zone, Type: dns.TypeSOA, NoRecurse: true}); err == nil {
		c.TCP = true
	} else if c.Error == "" {
		c.Error = "TCP: " + err.Error()
	}
	if !own || !c.UDP && !c.TCP {
		return
	}
	if r, err := cl.Exchange(ctx, s.server(c.Addr, dnsq.UDP), dnsq.Query{Name: ".", Type: dns.TypeNS}); err == nil {
		m := r.Msg
		c.Recursion = m.RecursionAvailable && m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0 && !m.Authoritative
	}
	var first *dns.Msg
	_, err = cl.Transfer(ctx, s.server(c.Addr, dnsq.TCP), dnsq.XFR{Query: dnsq.Query{Name: c.Zone, Type: dns.TypeAXFR}}, func(m *dns.Msg) error {
		first = m
		return errEnough
	})
	c.AXFR = (err == nil || errors.Is(err, errEnough)) && first != nil && first.Rcode == dns.RcodeSuccess && len(first.Answer) > 0
}

// judgeServers turns the checks into findings.
func (s *scanner) judgeServers(checks []ServerCheck, names []string, hosts map[string][]netip.Addr) {
	var serials = map[string][]string{}
	var soa *dns.SOA
	group := map[string][]string{}
	for _, c := range checks {
		own := dnsq.SameName(c.Zone, s.zone)
		prefix := ""
		if !own {
			prefix = "parent_"
		}
		switch {
		case !c.UDP && !c.TCP && strings.Contains(c.Error, "network is unreachable"):
			// This host has no route there (IPv6 often): not the server's fault.
			group["ns_not_tested"] = append(group["ns_not_tested"], c.label())
		case !c.UDP && !c.TCP:
			group[prefix+"ns_unreachable"] = append(group[prefix+"ns_unreachable"], c.label())
		case !c.UDP:
			group[prefix+"udp_unsupported"] = append(group[prefix+"udp_unsupported"], c.label())
		case !c.TCP:
			group[prefix+"tcp_unsupported"] = append(group[prefix+"tcp_unsupported"], c.label())
		}
		if c.UDP && (!c.Auth || c.Rcode != "NOERROR") {
			group[prefix+"ns_lame"] = append(group[prefix+"ns_lame"], c.label()+" answered "+c.Rcode+map[bool]string{true: "", false: " without AA"}[c.Auth])
		}
		if c.UDP && !c.EDNS {
			group[prefix+"edns_unsupported"] = append(group[prefix+"edns_unsupported"], c.label())
		}
		if c.Recursion {
			group["recursion_open"] = append(group["recursion_open"], c.label())
		}
		if c.AXFR {
			group["axfr_open"] = append(group["axfr_open"], c.label())
		}
		if own && c.soa != nil && c.Auth {
			k := strconv.FormatUint(uint64(c.Serial), 10)
			serials[k] = append(serials[k], c.label())
			if soa == nil {
				soa = c.soa
			}
		}
	}
	for code, servers := range group {
		sev, text := serverFinding(code)
		s.rp.add(code, sev, text, servers...)
	}
	if len(serials) > 1 {
		var parts []string
		var all []string
		for k, v := range serials {
			parts = append(parts, fmt.Sprintf("serial %s from %s", k, strings.Join(v, ", ")))
			all = append(all, v...)
		}
		slices.Sort(parts)
		s.rp.add("soa_serial_differs", SevWarning, "the zone's servers serve different versions: "+strings.Join(parts, "; "), all...)
	}
	if soa != nil {
		s.soaTimers(soa)
	}
	s.spread(names, hosts)
}

func serverFinding(code string) (string, string) {
	base := strings.TrimPrefix(code, "parent_")
	whose := "of the zone"
	if base != code {
		whose = "of the parent zone"
	}
	switch base {
	case "ns_not_tested":
		return SevNotice, "addresses this host has no route to (network unreachable here, often IPv6): not checked"
	case "ns_unreachable":
		return SevError, "name servers " + whose + " answer neither over UDP nor over TCP"
	case "udp_unsupported":
		return SevError, "name servers " + whose + " answer over TCP but not over UDP"
	case "tcp_unsupported":
		return SevError, "name servers " + whose + " do not answer over TCP (RFC 7766 requires it)"
	case "ns_lame":
		return SevError, "name servers " + whose + " that are not authoritative for it (lame)"
	case "edns_unsupported":
		return SevWarning, "name servers " + whose + " that do not support EDNS (RFC 6891)"
	case "recursion_open":
		return SevWarning, "authoritative servers that recurse for anyone (asked for the root NS set with RD, they answered it)"
	case "axfr_open":
		return SevWarning, "servers that transfer the whole zone (AXFR) to anyone"
	}
	return SevWarning, code
}

// spread judges how many name servers there are and how many networks
// they are in.
func (s *scanner) spread(names []string, hosts map[string][]netip.Addr) {
	if len(names) == 1 {
		s.rp.add("ns_single", SevWarning, "the zone has a single name server (RFC 1034 asks for at least two)", names...)
	}
	prefixes, asns := map[netip.Prefix]bool{}, map[uint32]bool{}
	var v6, all int
	for _, n := range names {
		for _, a := range hosts[n] {
			all++
			bits := 24
			if a.Is6() {
				bits, v6 = 48, v6+1
			}
			p, _ := a.Prefix(bits)
			prefixes[p] = true
			if s.o.ASN != nil {
				asns[s.o.ASN(a)] = true
			}
		}
	}
	if len(names) > 1 && all > 1 && len(prefixes) == 1 {
		for p := range prefixes {
			s.rp.add("ns_same_prefix", SevWarning, fmt.Sprintf("every name server address is in %s: one network outage takes the zone down", p), names...)
		}
	}
	if len(names) > 1 && len(asns) == 1 && !asns[0] {
		for asn := range asns {
			s.rp.add("ns_same_asn", SevNotice, fmt.Sprintf("every name server is in AS%d", asn), names...)
		}
	}
	if all > 0 && v6 == 0 && !s.o.NoIPv6 {
		s.rp.add("ns_no_ipv6", SevNotice, "no name server has an IPv6 address", names...)
	}
}
