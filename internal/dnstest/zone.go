package dnstest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// Zone answers authoritatively for one zone, like a real primary server:
// answers with AA, referrals (NS plus glue) below delegation points, CNAME
// chains inside the zone, NODATA and NXDOMAIN with the SOA, truncation when
// a UDP answer does not fit, and CH TXT hostname.bind / id.server.
type Zone struct {
	Origin   string
	Hostname string              // answered for CH TXT hostname.bind and id.server; also the NSID
	records  map[string][]dns.RR // by lower-case owner name
	queries  atomic.Int64
}

// NewZone parses zone text (RFC 1035 master file format, $TTL allowed) for
// origin and fails the test on a syntax error.
func NewZone(t testing.TB, origin, text string) *Zone {
	t.Helper()
	z, err := ParseZone(origin, text)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// ParseZone parses zone text for origin.
func ParseZone(origin, text string) (*Zone, error) {
	origin = dns.CanonicalName(origin)
	z := &Zone{Origin: origin, records: map[string][]dns.RR{}}
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		z.Add(rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("parsing zone %s: %w", origin, err)
	}
	return z, nil
}

// Add adds a record to the zone.
func (z *Zone) Add(rr dns.RR) {
	name := dns.CanonicalName(rr.Header().Name)
	z.records[name] = append(z.records[name], rr)
}

// Queries reports how many queries the zone has answered.
func (z *Zone) Queries() int64 { return z.queries.Load() }

// ServeDNS implements dns.Handler.
func (z *Zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	z.queries.Add(1)
	m := z.Answer(req)
	reply(w, req, m, z.Hostname)
}

// Answer builds the reply to req without sending it.
func (z *Zone) Answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	if q.Qclass == dns.ClassCHAOS {
		return z.chaos(m, q)
	}
	qname := dns.CanonicalName(q.Name)
	if !dns.IsSubDomain(z.Origin, qname) {
		m.Rcode = dns.RcodeRefused
		return m
	}
	if cut := z.delegation(qname); cut != "" && !(q.Qtype == dns.TypeDS && cut == qname) {
		z.referral(m, cut)
		return m
	}
	m.Authoritative = true
	z.resolve(m, qname, q.Qtype, 0)
	return m
}

// delegation returns the closest delegation point at or above qname and
// below the origin, or "".
func (z *Zone) delegation(qname string) string {
	labels := dns.SplitDomainName(qname)
	for i := len(labels) - 1; i >= 0; i-- {
		name := dns.Fqdn(strings.Join(labels[i:], "."))
		if name == z.Origin || !dns.IsSubDomain(z.Origin, name) {
			continue
		}
		for _, rr := range z.records[name] {
			if rr.Header().Rrtype == dns.TypeNS {
				return name
			}
		}
	}
	return ""
}

func (z *Zone) referral(m *dns.Msg, cut string) {
	for _, rr := range z.records[cut] {
		switch rr.Header().Rrtype {
		case dns.TypeNS:
			m.Ns = append(m.Ns, rr)
			m.Extra = append(m.Extra, z.glue(rr.(*dns.NS).Ns)...)
		case dns.TypeDS:
			m.Ns = append(m.Ns, rr)
		}
	}
}

func (z *Zone) glue(host string) []dns.RR {
	var out []dns.RR
	for _, rr := range z.records[dns.CanonicalName(host)] {
		if t := rr.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
			out = append(out, rr)
		}
	}
	return out
}

func (z *Zone) resolve(m *dns.Msg, qname string, qtype uint16, depth int) {
	rrs, exists := z.records[qname]
	if !exists && !z.hasDescendant(qname) {
		if depth == 0 {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = append(m.Ns, z.soa()...)
		return
	}
	var matched []dns.RR
	for _, rr := range rrs {
		t := rr.Header().Rrtype
		switch {
		case t == qtype || qtype == dns.TypeANY:
			matched = append(matched, rr)
		case t == dns.TypeCNAME && qtype != dns.TypeCNAME:
			m.Answer = append(m.Answer, rr)
			target := dns.CanonicalName(rr.(*dns.CNAME).Target)
			if dns.IsSubDomain(z.Origin, target) && depth < 8 {
				z.resolve(m, target, qtype, depth+1)
			}
			return
		}
	}
	if len(matched) == 0 {
		m.Ns = append(m.Ns, z.soa()...)
		return
	}
	m.Answer = append(m.Answer, matched...)
	if qtype == dns.TypeNS || qtype == dns.TypeMX || qtype == dns.TypeSRV {
		for _, rr := range matched {
			var host string
			switch v := rr.(type) {
			case *dns.NS:
				host = v.Ns
			case *dns.MX:
				host = v.Mx
			case *dns.SRV:
				host = v.Target
			}
			m.Extra = append(m.Extra, z.glue(host)...)
		}
	}
}

func (z *Zone) hasDescendant(name string) bool {
	for owner := range z.records {
		if owner != name && dns.IsSubDomain(name, owner) {
			return true
		}
	}
	return false
}

func (z *Zone) soa() []dns.RR {
	for _, rr := range z.records[z.Origin] {
		if rr.Header().Rrtype == dns.TypeSOA {
			return []dns.RR{rr}
		}
	}
	return nil
}

func (z *Zone) chaos(m *dns.Msg, q dns.Question) *dns.Msg {
	name := dns.CanonicalName(q.Name)
	if z.Hostname == "" || q.Qtype != dns.TypeTXT || (name != "hostname.bind." && name != "id.server.") {
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	m.Answer = append(m.Answer, &dns.TXT{
		Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS},
		Txt: []string{z.Hostname},
	})
	return m
}

// reply adds EDNS to m when req had it, truncates it to what the client
// accepts over UDP, and writes it.
func reply(w dns.ResponseWriter, req, m *dns.Msg, nsid string) {
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = int(opt.UDPSize())
		ropt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		ropt.SetUDPSize(1232)
		ropt.SetDo(opt.Do())
		for _, o := range opt.Option {
			switch v := o.(type) {
			case *dns.EDNS0_NSID:
				if nsid != "" {
					ropt.Option = append(ropt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: fmt.Sprintf("%x", nsid)})
				}
			case *dns.EDNS0_COOKIE:
				ropt.Option = append(ropt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: v.Cookie + "0123456789abcdef"})
			case *dns.EDNS0_SUBNET:
				echo := *v
				echo.SourceScope = v.SourceNetmask
				ropt.Option = append(ropt.Option, &echo)
			}
		}
		m.Extra = append(m.Extra, ropt)
	}
	if isUDP(w) {
		m.Truncate(max(size, dns.MinMsgSize))
	}
	_ = w.WriteMsg(m)
}

func isUDP(w dns.ResponseWriter) bool {
	return w.LocalAddr() != nil && w.LocalAddr().Network() == "udp"
}
