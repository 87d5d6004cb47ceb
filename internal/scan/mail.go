package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// answers holds the zone's records looked up for the mail and web checks.
type answers struct {
	mu  sync.Mutex
	got map[string][]dnsq.Record // "name TYPE" → answer records
}

func (a *answers) of(name string, t uint16) []dnsq.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.got[dns.CanonicalName(name)+" "+dnsq.TypeString(t)]
}

// checkRecords looks the zone's main records and its mail and web
// policies up at once, fills the old scan shape and judges them.
func (s *scanner) checkRecords(ctx context.Context) {
	a := &answers{got: map[string][]dnsq.Record{}}
	z := s.zone
	qs := []struct {
		name string
		t    uint16
	}{{"_dmarc." + z, dns.TypeTXT}, {"_mta-sts." + z, dns.TypeTXT}, {"_smtp._tls." + z, dns.TypeTXT}}
	for _, t := range Types() {
		qs = append(qs, struct {
			name string
			t    uint16
		}{z, t})
	}
	var wg sync.WaitGroup
	for _, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs, _, err := s.lookup(ctx, q.name, q.t)
			a.mu.Lock()
			defer a.mu.Unlock()
			if err == nil {
				a.got[dns.CanonicalName(q.name)+" "+dnsq.TypeString(q.t)] = recs
			}
		}()
	}
	wg.Wait()
	s.rp.mu.Lock()
	for _, t := range Types() {
		s.rp.r.Records[dnsq.TypeString(t)] = dataOf(a.of(z, t), t)
	}
	s.rp.r.DMARC = dataOf(a.of("_dmarc."+z, dns.TypeTXT), dns.TypeTXT)
	s.rp.mu.Unlock()
	hasMX := s.checkMX(ctx, a.of(z, dns.TypeMX))
	s.checkSPF(ctx, txts(a.of(z, dns.TypeTXT), "v=spf1"))
	s.checkDMARC(txts(a.of("_dmarc."+z, dns.TypeTXT), "v=DMARC1"))
	if hasMX {
		if len(txts(a.of("_mta-sts."+z, dns.TypeTXT), "v=STSv1")) == 0 {
			s.rp.add("mta_sts_none", SevNotice, "no MTA-STS record (_mta-sts TXT v=STSv1): mail to the domain may be sent without TLS")
		}
		if len(txts(a.of("_smtp._tls."+z, dns.TypeTXT), "v=TLSRPTv1")) == 0 {
			s.rp.add("tls_rpt_none", SevNotice, "no TLS-RPT record (_smtp._tls TXT v=TLSRPTv1): no reports of failed TLS deliveries")
		}
	}
	s.checkCAA(a.of(z, dns.TypeCAA))
}

// dataOf keeps the data of the records of type t, sorted.
func dataOf(recs []dnsq.Record, t uint16) []string {
	out := []string{}
	for _, r := range recs {
		if r.Type == dnsq.TypeString(t) {
			out = append(out, r.Data)
		}
	}
	slices.Sort(out)
	return out
}

// txts are the TXT strings (joined) that start with the tag.
func txts(recs []dnsq.Record, tag string) []string {
	var out []string
	for _, r := range recs {
		if r.Type != "TXT" {
			continue
		}
		if t, ok := rrOf(r).(*dns.TXT); ok {
			v := strings.Join(t.Txt, "")
			if strings.HasPrefix(strings.ToLower(v), strings.ToLower(tag)) && (len(v) == len(tag) || v[len(tag)] == ' ' || v[len(tag)] == ';') {
				out = append(out, v)
			}
		}
	}
	return out
}

// checkMX resolves every mail exchanger; it says whether the domain takes
// mail.
func (s *scanner) checkMX(ctx context.Context, recs []dnsq.Record) bool {
	var hosts []string
	for _, r := range recs {
		if mx, ok := rrOf(r).(*dns.MX); ok {
			if mx.Mx == "." {
				s.rp.add("mx_null", SevNotice, "a null MX (RFC 7505): the domain takes no mail")
				return false
			}
			hosts = append(hosts, dns.CanonicalName(mx.Mx))
		}
	}
	if len(hosts) == 0 {
		s.rp.add("mx_none", SevNotice, "no MX record: mail goes to the domain's A/AAAA address, if any")
		return false
	}
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var found bool
			for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
				recs, _, err := s.lookup(ctx, h, t)
				if err != nil {
					continue
				}
				for _, r := range recs {
					if r.Type == "CNAME" && dnsq.SameName(r.Name, h) {
						s.rp.add("mx_cname", SevError, fmt.Sprintf("the mail exchanger %s is a CNAME (to %s); RFC 2181 §10.3 forbids it", h, r.Data), h)
						return
					}
					found = found || r.Type == dnsq.TypeString(t)
				}
			}
			if !found {
				s.rp.add("mx_unresolvable", SevError, fmt.Sprintf("the mail exchanger %s has no A or AAAA address", h), h)
			}
		}()
	}
	wg.Wait()
	return true
}

// checkDMARC judges the DMARC record.
func (s *scanner) checkDMARC(recs []string) {
	switch {
	case len(recs) == 0:
		s.rp.add("dmarc_none", SevWarning, "no DMARC record (_dmarc TXT v=DMARC1): receivers get no policy for mail failing SPF and DKIM")
		return
	case len(recs) > 1:
		s.rp.add("dmarc_multiple", SevError, fmt.Sprintf("%d DMARC records; receivers ignore them all (RFC 7489 §6.6.3)", len(recs)))
		return
	}
	tags := map[string]string{}
	for _, part := range strings.Split(recs[0], ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			tags[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	switch p := strings.ToLower(tags["p"]); p {
	case "reject", "quarantine":
	case "none":
		s.rp.add("dmarc_policy_none", SevNotice, "the DMARC policy is p=none: failing mail is only reported, not refused")
	case "":
		s.rp.add("dmarc_syntax", SevError, fmt.Sprintf("the DMARC record has no p= policy: %q", recs[0]))
	default:
		s.rp.add("dmarc_syntax", SevError, fmt.Sprintf("the DMARC policy p=%s is none of none, quarantine, reject", p))
	}
}

// checkCAA judges the CAA records.
func (s *scanner) checkCAA(recs []dnsq.Record) {
	var n int
	for _, r := range recs {
		c, ok := rrOf(r).(*dns.CAA)
		if !ok {
			continue
		}
		n++
		switch strings.ToLower(c.Tag) {
		case "issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone":
		default:
			sev := SevNotice
			if c.Flag&128 != 0 {
				sev = SevWarning // critical: CAs must refuse to issue
			}
			s.rp.add("caa_unknown_tag", sev, fmt.Sprintf("CAA tag %q is not one CAs know (flags %d)", c.Tag, c.Flag))
		}
	}
	if n == 0 {
		s.rp.add("caa_none", SevNotice, "no CAA record: any certificate authority may issue for the domain")
	}
}

// rrOf parses a looked-up record back into its typed form; nil when it
// does not parse.
func rrOf(r dnsq.Record) dns.RR {
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", r.Name, r.TTL, r.Type, r.Data))
	if err != nil {
		return nil
	}
	return rr
}
