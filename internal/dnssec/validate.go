package dnssec

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// Validator validates chains of trust. The zero value walks from the
// shipped root hints with the shipped root anchors.
type Validator struct {
	// Tracer is the delegation walk (roots, port, client); nil means the
	// shipped root hints. The validator turns its DNSSEC switch on.
	Tracer *dnsq.Tracer
	// Anchors are the trust anchors (DS or DNSKEY records of one zone);
	// nil means RootAnchors().
	Anchors []dns.RR
	// Now is the clock signatures are judged by; nil means time.Now.
	Now func() time.Time
}

// Request is what to validate: the records (Name, Type) and, when Probe
// is set, the proof that the name Probe (under Name) does not exist.
type Request struct {
	Name  string
	Type  uint16
	Probe string
}

// Validate walks the delegation to req.Name and validates every link from
// the anchor down. Failures of the servers are an indeterminate verdict,
// not an error.
func (v *Validator) Validate(ctx context.Context, req Request) *Result {
	name := dns.CanonicalName(req.Name)
	res := &Result{Name: name, Type: dnsq.TypeString(req.Type), Chain: []Link{}, now: v.now()}
	anchors := v.Anchors
	if len(anchors) == 0 {
		anchors = RootAnchors()
	}
	res.Anchor = dns.CanonicalName(anchors[0].Header().Name)
	tr := &dnsq.Tracer{}
	if v.Tracer != nil {
		c := *v.Tracer
		tr = &c
	}
	tr.DNSSEC, tr.AllServers = true, false
	trace, err := tr.Trace(ctx, name, req.Type, nil)
	if err != nil {
		return res.end(Indeterminate, CodeUnreachable, "", fmt.Sprintf("the delegation to %s could not be followed: %v", name, err))
	}
	zones, addrs := zonesOf(trace)
	start := -1
	for i, z := range zones {
		if dnsq.SameName(z, res.Anchor) {
			start = i
		}
	}
	if start < 0 {
		return res.end(Indeterminate, CodeNoAnchor, "", fmt.Sprintf("the trust anchor is for %s, which is not on the path to %s (%s)", res.Anchor, name, strings.Join(zones, " → ")))
	}
	w := &walker{tr: tr, res: res, now: res.now}
	var ds []*dns.DS
	var trustKeys []*dns.DNSKEY
	for _, a := range anchors {
		switch r := a.(type) {
		case *dns.DS:
			ds = append(ds, r)
		case *dns.DNSKEY:
			trustKeys = append(trustKeys, r)
		}
	}
	for i := start; i < len(zones); i++ {
		link := Link{Zone: zones[i], Server: addrs[i], DS: dsInfos(ds)}
		if i > start {
			link.DS, link.DSSigs = w.pendingDS, w.pendingSigs
		}
		keys := w.keys(ctx, &link, ds, trustKeys)
		res.Chain = append(res.Chain, link)
		if link.Status != Secure {
			if link.Status == Insecure {
				res.InsecureAt = link.Zone
			}
			return res.end(link.Status, link.Code, link.Zone, link.Reason)
		}
		if i == len(zones)-1 {
			return w.records(ctx, req, name, link.Zone, addrs[i], keys)
		}
		child := zones[i+1]
		var stop *Link
		ds, stop = w.childDS(ctx, link.Zone, addrs[i], child, keys)
		trustKeys = nil
		if stop != nil {
			res.Chain = append(res.Chain, *stop)
			if stop.Status == Insecure {
				res.InsecureAt = child
				res.addAdvice()
				res.Status, res.Code, res.Reason = Insecure, stop.Code, stop.Reason
				return res
			}
			return res.end(stop.Status, stop.Code, child, stop.Reason)
		}
	}
	return res.end(Indeterminate, CodeUnreachable, "", "the delegation walk gave no zones")
}

func (v *Validator) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// end sets the verdict and returns the result.
func (r *Result) end(s Status, code, at, reason string) *Result {
	r.Status, r.Code, r.Reason = s, code, reason
	if s == Bogus || s == Indeterminate {
		r.BrokenAt = at
	}
	r.addAdvice()
	return r
}

// zonesOf lists the zones on the trace's path, each with the server
// (address#port) that answered for it.
func zonesOf(tr *dnsq.TraceResult) ([]string, []string) {
	var zones, addrs []string
	for _, s := range tr.Steps {
		if s.Kind == "root" {
			continue
		}
		z := dns.CanonicalName(s.Zone)
		if len(zones) > 0 && zones[len(zones)-1] == z {
			continue
		}
		zones, addrs = append(zones, z), append(addrs, s.Addr)
	}
	return zones, addrs
}

// walker is one validation's state.
type walker struct {
	tr          *dnsq.Tracer
	res         *Result
	now         time.Time
	pendingDS   []DSInfo
	pendingSigs []SigInfo
}

// ask sends one DO query to the server at addr ("ip#port").
func (w *walker) ask(ctx context.Context, addr, name string, t uint16) (*dns.Msg, error) {
	host, port, _ := strings.Cut(addr, "#")
	c := w.tr.Client
	if c == nil {
		c = &dnsq.Client{Timeout: 2 * time.Second, Tries: 2}
	}
	resp, err := c.Exchange(ctx, dnsq.Server{Transport: dnsq.UDP, Addr: net.JoinHostPort(host, port)}, dnsq.Query{Name: name, Type: t, NoRecurse: true, DO: true})
	if err != nil {
		return nil, fmt.Errorf("asking %s for %s %s: %w", addr, name, dnsq.TypeString(t), err)
	}
	return resp.Msg, nil
}

func (w *walker) noteExpiry(t time.Time) {
	if !t.IsZero() && (w.res.Expires.IsZero() || t.Before(w.res.Expires)) {
		w.res.Expires = t
	}
}

// keys fetches the zone's DNSKEY set, finds the keys the DS set (or the
// anchor keys) vouch for, and checks that they sign the set. It returns
// the zone's keys when the link is secure.
func (w *walker) keys(ctx context.Context, link *Link, ds []*dns.DS, anchorKeys []*dns.DNSKEY) []*dns.DNSKEY {
	set := func(s Status, code, reason string) []*dns.DNSKEY {
		link.Status, link.Code, link.Reason = s, code, reason
		return nil
	}
	if len(anchorKeys) == 0 {
		var usable bool
		for _, d := range ds {
			usable = usable || supportedAlg(d.Algorithm) && supportedDigest(d.DigestType)
		}
		if !usable {
			return set(Insecure, CodeAlgUnsupported, fmt.Sprintf("no DS of %s uses an algorithm and digest this validator supports (RFC 4035 §5.2: treated as unsigned)", link.Zone))
		}
	}
	m, err := w.ask(ctx, link.Server, link.Zone, dns.TypeDNSKEY)
	if err != nil {
		return set(Indeterminate, CodeUnreachable, err.Error())
	}
	rrs := rrset(m.Answer, link.Zone, dns.TypeDNSKEY)
	if len(rrs) == 0 {
		return set(Bogus, CodeNoDNSKEY, fmt.Sprintf("%s has a DS record at its parent but its server (%s) gives no DNSKEY (%s)", link.Zone, link.Server, dnsq.RcodeString(m.Rcode)))
	}
	all := zoneKeys(rrs)
	var trusted []*dns.DNSKEY
	for _, k := range all {
		info := KeyInfo{KeyTag: k.KeyTag(), Flags: k.Flags, Algorithm: k.Algorithm, Bits: keyBits(k), SEP: k.Flags&dns.SEP != 0}
		for i, d := range ds {
			if dsMatches(d, k) {
				info.Trusted, link.DS[i].Matched = true, true
			}
		}
		for _, a := range anchorKeys {
			if a.Algorithm == k.Algorithm && a.Flags == k.Flags && strings.EqualFold(a.PublicKey, k.PublicKey) {
				info.Trusted = true
			}
		}
		if info.Trusted {
			trusted = append(trusted, k)
		}
		link.Keys = append(link.Keys, info)
	}
	if len(trusted) == 0 {
		what := "DS"
		if len(anchorKeys) > 0 {
			what = "anchor DNSKEY"
		}
		return set(Bogus, CodeDSNoKey, fmt.Sprintf("no DNSKEY of %s matches its %s (%s); keys served: %s", link.Zone, what, dsList(ds), keyList(all)))
	}
	c := verifySet(rrs, sigsFor(m.Answer, link.Zone, dns.TypeDNSKEY), trusted, link.Zone, w.now)
	link.Sigs = c.sigs
	if !c.ok {
		code := c.code
		if code == CodeNoSignature && !sigAlgsOverlap(m.Answer, trusted) {
			code = CodeAlgMismatch
			c.reason = fmt.Sprintf("the DNSKEY set of %s is not signed with the algorithm of any key its DS vouches for (%s): %s", link.Zone, keyList(trusted), c.reason)
		}
		return set(Bogus, code, c.reason)
	}
	w.noteExpiry(c.expires)
	link.Status = Secure
	return all
}

func sigAlgsOverlap(section []dns.RR, keys []*dns.DNSKEY) bool {
	for _, rr := range section {
		if s, ok := rr.(*dns.RRSIG); ok {
			for _, k := range keys {
				if s.Algorithm == k.Algorithm {
					return true
				}
			}
		}
	}
	return false
}

// childDS asks the parent's server for the child's DS set and checks it
// (into w.pendingDS) or the proof of its absence. A non-nil link ends the
// chain: insecure (proven no DS) or bogus.
func (w *walker) childDS(ctx context.Context, zone, addr, child string, keys []*dns.DNSKEY) ([]*dns.DS, *Link) {
	stop := &Link{Zone: child, DS: []DSInfo{}, Keys: []KeyInfo{}, Sigs: []SigInfo{}}
	m, err := w.ask(ctx, addr, child, dns.TypeDS)
	if err != nil {
		stop.Status, stop.Code, stop.Reason = Indeterminate, CodeUnreachable, err.Error()
		return nil, stop
	}
	rrs := rrset(m.Answer, child, dns.TypeDS)
	if len(rrs) == 0 {
		if m.Rcode != dns.RcodeSuccess {
			stop.Status, stop.Code, stop.Reason = Indeterminate, CodeUnreachable, fmt.Sprintf("%s answered %s to the DS query for %s", addr, dnsq.RcodeString(m.Rcode), child)
			return nil, stop
		}
		d := noData(m.Ns, child, dns.TypeDS, keys, zone, w.now)
		w.notes(m.Ns)
		stop.DSSigs = d.sigs
		if d.code != "" {
			stop.Status, stop.Code = Bogus, d.code
			stop.Reason = fmt.Sprintf("%s gives no DS for %s and does not prove its absence: %s", zone, child, d.reason)
			return nil, stop
		}
		w.noteExpiry(d.expires)
		stop.Status, stop.NoDS = Insecure, d.kind
		stop.Reason = fmt.Sprintf("%s is an unsigned delegation: %s proves with %s that it has no DS", child, zone, strings.ToUpper(d.kind))
		return nil, stop
	}
	var ds []*dns.DS
	for _, rr := range rrs {
		ds = append(ds, rr.(*dns.DS))
	}
	c := verifySet(rrs, sigsFor(m.Answer, child, dns.TypeDS), keys, zone, w.now)
	w.pendingDS, w.pendingSigs = dsInfos(ds), c.sigs
	if !c.ok {
		stop.DS, stop.DSSigs = w.pendingDS, c.sigs
		stop.Status, stop.Code, stop.Reason = Bogus, c.code, c.reason
		return nil, stop
	}
	w.noteExpiry(c.expires)
	return ds, nil
}

// records checks the records asked for, and the denial probe, at the
// last zone of the chain.
func (w *walker) records(ctx context.Context, req Request, name, zone, addr string, keys []*dns.DNSKEY) *Result {
	qs := []Request{{Name: name, Type: req.Type}}
	if req.Probe != "" {
		qs = append(qs, Request{Name: dns.CanonicalName(req.Probe), Type: dns.TypeA})
	}
	for _, q := range qs {
		rc := w.answer(ctx, q, zone, addr, keys)
		w.res.Records = append(w.res.Records, rc)
		if rc.Status != Secure {
			return w.res.end(rc.Status, rc.Code, zone, rc.Reason)
		}
	}
	return w.res.end(Secure, "", "", "")
}

// answer validates one answer from the zone: each RRset and its
// signatures, or the proof of absence.
func (w *walker) answer(ctx context.Context, q Request, zone, addr string, keys []*dns.DNSKEY) RRsetCheck {
	rc := RRsetCheck{Name: q.Name, Type: dnsq.TypeString(q.Type)}
	m, err := w.ask(ctx, addr, q.Name, q.Type)
	if err != nil {
		rc.Status, rc.Code, rc.Reason = Indeterminate, CodeUnreachable, err.Error()
		return rc
	}
	rc.Rcode = dnsq.RcodeString(m.Rcode)
	w.notes(m.Ns)
	switch {
	case m.Rcode == dns.RcodeNameError:
		return w.denied(rc, nxDomain(m.Ns, q.Name, keys, zone, w.now))
	case m.Rcode != dns.RcodeSuccess:
		rc.Status, rc.Code, rc.Reason = Indeterminate, CodeUnreachable, fmt.Sprintf("%s answered %s", addr, rc.Rcode)
		return rc
	case len(m.Answer) == 0:
		return w.denied(rc, noData(m.Ns, q.Name, q.Type, keys, zone, w.now))
	}
	seen := map[string]bool{}
	for _, rr := range m.Answer {
		h := rr.Header()
		key := strings.ToLower(h.Name) + "/" + dns.TypeToString[h.Rrtype]
		if h.Rrtype == dns.TypeRRSIG || seen[key] {
			continue
		}
		seen[key] = true
		c := verifySet(rrset(m.Answer, h.Name, h.Rrtype), sigsFor(m.Answer, h.Name, h.Rrtype), keys, zone, w.now)
		rc.Sigs = append(rc.Sigs, c.sigs...)
		if !c.ok {
			rc.Status, rc.Code, rc.Reason = Bogus, c.code, c.reason
			return rc
		}
		w.noteExpiry(c.expires)
	}
	rc.Status = Secure
	return rc
}

func (w *walker) denied(rc RRsetCheck, d denial) RRsetCheck {
	rc.Sigs = d.sigs
	if d.code != "" {
		rc.Status, rc.Code, rc.Reason = Bogus, d.code, d.reason
		return rc
	}
	w.noteExpiry(d.expires)
	rc.Status, rc.Denial = Secure, d.kind
	return rc
}

func dsInfos(ds []*dns.DS) []DSInfo {
	out := []DSInfo{}
	for _, d := range ds {
		out = append(out, DSInfo{KeyTag: d.KeyTag, Algorithm: d.Algorithm, DigestType: d.DigestType, Digest: strings.ToUpper(d.Digest)})
	}
	return out
}

func dsList(ds []*dns.DS) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("tag %d alg %d digest %d", d.KeyTag, d.Algorithm, d.DigestType))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func keyList(keys []*dns.DNSKEY) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("tag %d alg %d flags %d", k.KeyTag(), k.Algorithm, k.Flags))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
