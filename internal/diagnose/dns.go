package diagnose

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/miekg/dns"
)

// DNSReport is what the DNS layer saw.
type DNSReport struct {
	Answers []ResolverAnswer `json:"answers"`
	// Trace is the delegation trace from the root, run when DNS failed.
	Trace *dnsq.TraceResult `json:"trace,omitempty"`
}

// ResolverAnswer is one resolver's addresses for the host.
type ResolverAnswer struct {
	Resolver  string        `json:"resolver"`
	System    bool          `json:"system,omitempty"`
	Rcode     string        `json:"rcode,omitempty"` // of the A query (AAAA's when A failed)
	Addresses []string      `json:"addresses"`
	TTL       uint32        `json:"ttl,omitempty"`
	RTT       time.Duration `json:"-"`
	RTTMs     float64       `json:"rtt_ms"`
	Error     string        `json:"error,omitempty"`
}

func (a ResolverAnswer) label() string {
	if a.System {
		return "system " + a.Resolver
	}
	return a.Resolver
}

// resolveLayer asks every resolver for the host's A and AAAA records and
// judges the answers; an IP address literal skips DNS.
func resolveLayer(ctx context.Context, req Request, t *target, res *Result) ([]string, Layer) {
	start := time.Now()
	if ip := net.ParseIP(t.host); ip != nil {
		return []string{ip.String()}, Layer{Name: "dns", Status: StatusSkip, Evidence: t.host + " is an address; no lookup"}
	}
	servers, system, err := serversFor(req)
	if err != nil || len(servers) == 0 {
		msg := "no resolver to ask"
		if err != nil {
			msg = err.Error()
		}
		return nil, Layer{Name: "dns", Status: StatusFail, Evidence: msg,
			cause: "no resolver is configured", next: "pass --resolvers or fix /etc/resolv.conf"}
	}
	answers := askAll(ctx, req, servers, system, t.host)
	res.DNS = &DNSReport{Answers: answers}
	l := judgeDNS(answers, t.host, req.ExpectIP)
	l.Duration = time.Since(start)
	if l.Status == StatusFail && needsTrace(answers) && !req.NoTrace {
		res.DNS.Trace = trace(ctx, req, t.host)
		l.Evidence += "; " + traceSummary(res.DNS.Trace)
	}
	return union(answers), l
}

func serversFor(req Request) ([]dnsq.Server, int, error) {
	var servers []dnsq.Server
	if !req.NoSystem {
		sys := req.System
		if sys == nil {
			var err error
			if sys, err = dnsq.SystemServers(req.ResolvConf); err != nil && len(req.Resolvers) == 0 {
				return nil, 0, err
			}
		}
		servers = append(servers, sys...)
	}
	system := len(servers)
	return append(servers, req.Resolvers...), system, nil
}

func askAll(ctx context.Context, req Request, servers []dnsq.Server, system int, host string) []ResolverAnswer {
	out := make([]ResolverAnswer, len(servers))
	client := &dnsq.Client{Timeout: req.timeout() / 2, Tries: 2, Dialer: req.Dialer}
	sysClient := client
	if req.SystemDialer != nil {
		sysClient = &dnsq.Client{Timeout: client.Timeout, Tries: client.Tries, Dialer: req.SystemDialer}
	}
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			c := client
			if i < system {
				c = sysClient
			}
			out[i] = askOne(ctx, c, s, host)
			out[i].System = i < system
		})
	}
	wg.Wait()
	return out
}

// askOne asks for A and AAAA; the answer's rcode is the A query's.
func askOne(ctx context.Context, c *dnsq.Client, s dnsq.Server, host string) ResolverAnswer {
	a := ResolverAnswer{Resolver: s.String(), Addresses: []string{}}
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		resp, err := c.Exchange(ctx, s, dnsq.Query{Name: dns.Fqdn(host), Type: qt})
		if err != nil {
			if qt == dns.TypeA {
				a.Error = err.Error()
				return a
			}
			continue
		}
		if qt == dns.TypeA {
			a.Rcode, a.RTT, a.RTTMs = dns.RcodeToString[resp.Msg.Rcode], resp.RTT, toMS(resp.RTT)
		}
		for _, rr := range resp.Msg.Answer {
			switch v := rr.(type) {
			case *dns.A:
				a.Addresses = append(a.Addresses, v.A.String())
			case *dns.AAAA:
				a.Addresses = append(a.Addresses, v.AAAA.String())
			default:
				continue
			}
			if a.TTL == 0 || rr.Header().Ttl < a.TTL {
				a.TTL = rr.Header().Ttl
			}
		}
	}
	sort.Strings(a.Addresses)
	return a
}

// judgeDNS turns the answers into the DNS layer: NXDOMAIN, SERVFAIL,
// timeouts, no address, disagreement and unexpected addresses fail it.
func judgeDNS(answers []ResolverAnswer, host string, expect []string) Layer {
	l := Layer{Name: "dns"}
	var failed, nx, servfail, ok []ResolverAnswer
	for _, a := range answers {
		switch {
		case a.Error != "":
			failed = append(failed, a)
		case a.Rcode == "NXDOMAIN":
			nx = append(nx, a)
		case a.Rcode != "NOERROR":
			servfail = append(servfail, a)
		default:
			ok = append(ok, a)
		}
	}
	fail := func(evidence, cause, next string) Layer {
		l.Status, l.Evidence, l.cause, l.next = StatusFail, evidence, cause, next
		return l
	}
	switch {
	case len(nx) == len(answers):
		return fail(fmt.Sprintf("%s does not exist: NXDOMAIN from %s", host, plural(len(nx), "resolver")),
			"the record is missing from the zone, the name is misspelled, or the zone is not delegated",
			"check the zone for the name (see the delegation trace); dnsscience dig "+host+" @<authoritative server>")
	case len(nx) > 0:
		return fail(fmt.Sprintf("resolvers disagree: %s answer NXDOMAIN, %s", labels(nx), describe(append(ok, servfail...))),
			"a recent change has not reached every resolver yet (negative caching), or split-horizon DNS",
			"compare with the authoritative servers (dnsscience trace "+host+") and wait for the SOA minimum TTL")
	case len(failed) == len(answers):
		return fail(fmt.Sprintf("no resolver answered: %s", failed[0].Error),
			"the resolvers are unreachable or a firewall blocks DNS (port 53)",
			"check connectivity to the resolvers; try another with --resolvers")
	case len(servfail) > 0:
		return fail(fmt.Sprintf("%s: %s for %s", labels(servfail), servfail[0].Rcode, host),
			"the authoritative servers are unreachable or lame, or DNSSEC validation fails",
			"dnsscience trace "+host+" to find the broken delegation; check DNSSEC signatures (DS/DNSKEY)")
	}
	if msg := disagreement(ok); msg != "" {
		return fail("resolvers disagree: "+msg,
			"a recent change has not propagated to every resolver (TTL), or geo/split-horizon DNS answers differently",
			"dnsscience propagation "+host+" to see every resolver; wait out the TTL or flush the stale resolver's cache")
	}
	all := union(ok)
	if len(all) == 0 {
		return fail(host+" has no A or AAAA record (NODATA)",
			"the name exists but has no address records (only other types, or a CNAME to nowhere)",
			"add A/AAAA records, or check the CNAME target")
	}
	if missing := missingExpected(all, expect); len(missing) > 0 {
		return fail(fmt.Sprintf("%s resolves to %s, not the expected %s", host, strings.Join(all, ", "), strings.Join(missing, ", ")),
			"the record points elsewhere: an old address, or the wrong load balancer",
			"update the record, or check --expect-ip")
	}
	l.Status = StatusOK
	agree := fmt.Sprintf("%d resolvers agree", len(ok))
	if len(ok) == 1 {
		agree = "1 resolver"
	}
	l.Evidence = fmt.Sprintf("%s → %s (%s)", host, strings.Join(all, ", "), agree)
	if len(failed) > 0 {
		l.Status = StatusWarn
		l.Evidence += fmt.Sprintf("; %s failed: %s", labels(failed), failed[0].Error)
	}
	return l
}

func disagreement(ok []ResolverAnswer) string {
	groups := map[string][]ResolverAnswer{}
	var keys []string
	for _, a := range ok {
		k := strings.Join(a.Addresses, ",")
		if _, seen := groups[k]; !seen {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], a)
	}
	if len(groups) < 2 {
		return ""
	}
	var parts []string
	for _, k := range keys {
		shown := k
		if shown == "" {
			shown = "no address"
		}
		parts = append(parts, fmt.Sprintf("%s → %s", labels(groups[k]), shown))
	}
	return strings.Join(parts, "; ")
}

func describe(as []ResolverAnswer) string {
	var parts []string
	for _, a := range as {
		v := a.Rcode
		if len(a.Addresses) > 0 {
			v = strings.Join(a.Addresses, ", ")
		}
		parts = append(parts, a.label()+" → "+v)
	}
	return strings.Join(parts, "; ")
}

func labels(as []ResolverAnswer) string {
	var s []string
	for _, a := range as {
		s = append(s, a.label())
	}
	return strings.Join(s, ", ")
}

func union(as []ResolverAnswer) []string {
	var out []string
	for _, a := range as {
		for _, x := range a.Addresses {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	sort.Strings(out)
	return out
}

func missingExpected(have, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, net.ParseIP(w).String()) {
			out = append(out, w)
		}
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// needsTrace reports DNS failures a delegation trace can explain.
func needsTrace(as []ResolverAnswer) bool {
	for _, a := range as {
		if a.Error != "" || a.Rcode != "NOERROR" || len(a.Addresses) == 0 {
			return true
		}
	}
	return false
}

func trace(ctx context.Context, req Request, host string) *dnsq.TraceResult {
	tr := req.Tracer
	if tr == nil {
		tr = &dnsq.Tracer{AllServers: true}
	}
	if tr.Client == nil {
		c := &dnsq.Client{Timeout: 2 * time.Second, Tries: 2, Dialer: req.Dialer}
		cp := *tr
		cp.Client = c
		tr = &cp
	}
	res, err := tr.Trace(ctx, host, dns.TypeA, nil)
	if res == nil {
		res = &dnsq.TraceResult{Name: dns.Fqdn(host), Error: fmt.Sprint(err)}
	}
	return res
}

// traceSummary says where the delegation walk ended.
func traceSummary(tr *dnsq.TraceResult) string {
	if tr == nil {
		return ""
	}
	var path []string
	for _, s := range tr.Steps {
		if s.Kind == "referral" && s.NextZone != "" {
			path = append(path, s.NextZone)
		}
	}
	where := "delegation . → " + strings.Join(path, " → ")
	if len(path) == 0 {
		where = "delegation from the root"
	}
	var b strings.Builder
	b.WriteString(where)
	if n := len(tr.Steps); n > 0 {
		last := tr.Steps[n-1]
		if last.Kind == "answer" {
			fmt.Fprintf(&b, ": %s at %s (%s) answers %s", last.Zone, last.Server, last.Addr, last.Rcode)
		}
	}
	if tr.Error != "" {
		fmt.Fprintf(&b, ": trace failed: %s", tr.Error)
	}
	for _, f := range tr.Findings {
		fmt.Fprintf(&b, "; %s %s: %s", f.Kind, f.Server, f.Detail)
	}
	return b.String()
}
