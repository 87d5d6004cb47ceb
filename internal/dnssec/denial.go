package dnssec

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// denial is what a proof of absence established.
type denial struct {
	kind    string // nsec, nsec3, nsec3 opt-out
	code    string // "" when proven
	reason  string
	sigs    []SigInfo
	expires time.Time
}

// prover checks NSEC and NSEC3 records from one reply's authority section
// with the zone's keys; every record a proof uses must verify.
type prover struct {
	ns   []dns.RR
	keys []*dns.DNSKEY
	zone string
	now  time.Time
	d    *denial
}

// verified says whether the NSEC/NSEC3 record at owner verifies, noting
// its signatures and the first failure.
func (p *prover) verified(owner string, t uint16) bool {
	c := verifySet(rrset(p.ns, owner, t), sigsFor(p.ns, owner, t), p.keys, p.zone, p.now)
	p.d.sigs = append(p.d.sigs, c.sigs...)
	if !c.ok && p.d.code == "" {
		p.d.code, p.d.reason = c.code, c.reason
	}
	if c.ok && (p.d.expires.IsZero() || c.expires.Before(p.d.expires)) {
		p.d.expires = c.expires
	}
	return c.ok
}

func (p *prover) nsecs() []*dns.NSEC {
	var out []*dns.NSEC
	for _, rr := range p.ns {
		if n, ok := rr.(*dns.NSEC); ok {
			out = append(out, n)
		}
	}
	return out
}

func (p *prover) nsec3s() []*dns.NSEC3 {
	var out []*dns.NSEC3
	for _, rr := range p.ns {
		if n, ok := rr.(*dns.NSEC3); ok && n.Hash == dns.SHA1 {
			out = append(out, n)
		}
	}
	return out
}

// noData proves that name exists without records of type t (for DS at a
// delegation, also an NSEC3 opt-out span covering it).
func noData(ns []dns.RR, name string, t uint16, keys []*dns.DNSKEY, zone string, now time.Time) denial {
	d := denial{}
	p := &prover{ns: ns, keys: keys, zone: zone, now: now, d: &d}
	for _, n := range p.nsecs() {
		if !strings.EqualFold(n.Hdr.Name, name) {
			continue
		}
		if slices.Contains(n.TypeBitMap, t) || slices.Contains(n.TypeBitMap, dns.TypeCNAME) {
			return fail(d, CodeDenialWrong, fmt.Sprintf("the NSEC at %s lists %s: it proves nothing is missing", name, dns.TypeToString[t]))
		}
		if p.verified(n.Hdr.Name, dns.TypeNSEC) {
			d.kind = "nsec"
			return ok(d)
		}
		return d
	}
	n3 := p.nsec3s()
	for _, n := range n3 {
		if !n.Match(name) {
			continue
		}
		if slices.Contains(n.TypeBitMap, t) || slices.Contains(n.TypeBitMap, dns.TypeCNAME) {
			return fail(d, CodeDenialWrong, fmt.Sprintf("the NSEC3 matching %s lists %s: it proves nothing is missing", name, dns.TypeToString[t]))
		}
		if p.verified(n.Hdr.Name, dns.TypeNSEC3) {
			d.kind = "nsec3"
			return ok(d)
		}
		return d
	}
	if t == dns.TypeDS && len(n3) > 0 {
		// An opt-out span: the closest encloser matched, the next closer
		// covered by an NSEC3 with the opt-out flag (RFC 5155 §8.6).
		if ce, next, cover := p.closestEncloser(name, n3); ce != "" && cover != nil && next != "" {
			if cover.Flags&1 == 0 {
				return fail(d, CodeDenialWrong, fmt.Sprintf("no NSEC3 matches %s and the one covering it has no opt-out flag", name))
			}
			d.kind = "nsec3 opt-out"
			return ok(d)
		}
	}
	if d.code != "" {
		return d
	}
	if len(n3) > 0 || len(p.nsecs()) > 0 {
		return fail(d, CodeDenialWrong, fmt.Sprintf("no NSEC or NSEC3 record in the reply proves that %s has no %s", name, dns.TypeToString[t]))
	}
	return fail(d, CodeDenialMissing, fmt.Sprintf("the reply says %s has no %s but carries no NSEC or NSEC3 proof", name, dns.TypeToString[t]))
}

// nxDomain proves that name does not exist and no wildcard could have
// answered for it.
func nxDomain(ns []dns.RR, name string, keys []*dns.DNSKEY, zone string, now time.Time) denial {
	d := denial{}
	p := &prover{ns: ns, keys: keys, zone: zone, now: now, d: &d}
	if nsecs := p.nsecs(); len(nsecs) > 0 {
		cover := coveringNSEC(nsecs, name)
		if cover == nil {
			return fail(d, CodeDenialWrong, "no NSEC in the reply covers "+name)
		}
		ce := nsecEncloser(name, cover)
		wild := "*." + ce
		if ce == "." {
			wild = "*."
		}
		wc := coveringNSEC(nsecs, wild)
		if wc == nil {
			return fail(d, CodeDenialWrong, fmt.Sprintf("no NSEC in the reply covers the wildcard %s", wild))
		}
		if p.verified(cover.Hdr.Name, dns.TypeNSEC) && p.verified(wc.Hdr.Name, dns.TypeNSEC) {
			d.kind = "nsec"
			return ok(d)
		}
		return d
	}
	n3 := p.nsec3s()
	if len(n3) == 0 {
		return fail(d, CodeDenialMissing, fmt.Sprintf("the reply says %s does not exist but carries no NSEC or NSEC3 proof", name))
	}
	ce, next, cover := p.closestEncloser(name, n3)
	switch {
	case ce == "":
		return fail(d, CodeDenialWrong, "no NSEC3 in the reply matches an ancestor of "+name+" (no closest encloser)")
	case cover == nil:
		return fail(d, CodeDenialWrong, fmt.Sprintf("no NSEC3 in the reply covers %s, the next closer name", next))
	}
	wild := "*." + ce
	if ce == "." {
		wild = "*."
	}
	var wc *dns.NSEC3
	for _, n := range n3 {
		if n.Cover(wild) {
			wc = n
		}
	}
	if wc == nil {
		return fail(d, CodeDenialWrong, fmt.Sprintf("no NSEC3 in the reply covers the wildcard %s", wild))
	}
	if p.verified(wc.Hdr.Name, dns.TypeNSEC3) && d.code == "" {
		d.kind = "nsec3"
		return ok(d)
	}
	return d
}

// closestEncloser finds the longest ancestor of name an NSEC3 matches,
// the next closer name and the NSEC3 covering it; each record it uses
// must verify.
func (p *prover) closestEncloser(name string, n3 []*dns.NSEC3) (string, string, *dns.NSEC3) {
	labels := dns.SplitDomainName(name)
	for i := 1; i <= len(labels); i++ {
		ce := "."
		if i < len(labels) {
			ce = dns.Fqdn(strings.Join(labels[i:], "."))
		}
		for _, m := range n3 {
			if !m.Match(ce) || !dns.IsSubDomain(p.zone, ce) {
				continue
			}
			if !p.verified(m.Hdr.Name, dns.TypeNSEC3) {
				return ce, "", nil
			}
			next := dns.Fqdn(strings.Join(labels[i-1:], "."))
			for _, c := range n3 {
				if c.Cover(next) {
					if !p.verified(c.Hdr.Name, dns.TypeNSEC3) {
						return ce, next, nil
					}
					return ce, next, c
				}
			}
			return ce, next, nil
		}
	}
	return "", "", nil
}

func ok(d denial) denial { d.code, d.reason = "", ""; return d }

func fail(d denial, code, reason string) denial {
	d.code, d.reason, d.kind = code, reason, ""
	return d
}

// coveringNSEC is the NSEC whose span holds name strictly between its
// owner and next name.
func coveringNSEC(nsecs []*dns.NSEC, name string) *dns.NSEC {
	for _, n := range nsecs {
		o, nx := n.Hdr.Name, n.NextDomain
		after := canonicalCompare(o, name) < 0
		before := canonicalCompare(name, nx) < 0
		last := canonicalCompare(nx, o) <= 0 // the last NSEC wraps to the apex
		if after && (before || last) {
			return n
		}
	}
	return nil
}

// nsecEncloser is the closest encloser an NSEC covering name implies: the
// longer common ancestor of name with the NSEC's owner or next name.
func nsecEncloser(name string, n *dns.NSEC) string {
	a := dns.CompareDomainName(name, n.Hdr.Name)
	b := dns.CompareDomainName(name, n.NextDomain)
	k := max(a, b)
	labels := dns.SplitDomainName(name)
	if k >= len(labels) || k == 0 {
		if k == 0 {
			return "."
		}
		return name
	}
	return dns.Fqdn(strings.Join(labels[len(labels)-k:], "."))
}

// canonicalCompare orders names as RFC 4034 §6.1 does: label by label from
// the right, case-folded, byte-wise.
func canonicalCompare(a, b string) int {
	la, lb := dns.SplitDomainName(strings.ToLower(a)), dns.SplitDomainName(strings.ToLower(b))
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(unescape(la[i]), unescape(lb[j])); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// unescape turns a presentation label's \DDD and \X escapes into bytes.
func unescape(l string) string {
	if !strings.Contains(l, `\`) {
		return l
	}
	var b strings.Builder
	for i := 0; i < len(l); i++ {
		if l[i] == '\\' && i+3 < len(l) && isDigits(l[i+1:i+4]) {
			b.WriteByte(byte((int(l[i+1]-'0')*100 + int(l[i+2]-'0')*10 + int(l[i+3]-'0')) & 0xff))
			i += 3
			continue
		}
		if l[i] == '\\' && i+1 < len(l) {
			i++
		}
		b.WriteByte(l[i])
	}
	return b.String()
}

func isDigits(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
