package diagnose

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/probe"
	"github.com/miekg/dns"
)

// DNSReport is what the DNS layer saw.
type DNSReport struct {
	Answers []ResolverAnswer `json:"answers"`
	// Trace is the delegation trace from the root, run when DNS failed.
	Trace *dnsq.TraceResult `json:"trace,omitempty"`
	// TraceSkipped says why no trace was run although DNS failed (an
	// internal name and no Roots, say).
	TraceSkipped string `json:"trace_skipped,omitempty"`
}

// ResolverAnswer is one resolver's addresses for the host.
type ResolverAnswer struct {
	Resolver  string        `json:"resolver"`
	System    bool          `json:"system,omitempty"`
	Rcode     string        `json:"rcode,omitempty"` // of the A query (AAAA's when A failed)
	Addresses []string      `json:"addresses"`
	TTL       uint32        `json:"ttl,omitempty"`
	RTT       time.Duration `json:"-"`
	RTTMs     float64       `json:"rtt_ms,omitempty"` // absent when the resolver did not answer
	Error     string        `json:"error,omitempty"`
	// TimedOut: the resolver did not answer in time (Error says how long).
	TimedOut bool `json:"timed_out,omitempty"`
}

func (a ResolverAnswer) label() string {
	if a.System {
		return "system " + a.Resolver
	}
	return a.Resolver
}

// resolveLayer asks every resolver for the host's A and AAAA records,
// traces the delegation when that helps, and judges the answers, all within
// one Timeout; an IP address literal skips DNS.
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
			Cause: "no resolver is configured", Next: "pass --resolvers or fix /etc/resolv.conf"}
	}
	ctx, cancel := context.WithTimeout(ctx, req.timeout())
	defer cancel()
	answers := askAll(ctx, req, servers, system, t.host)
	res.DNS = &DNSReport{Answers: answers}
	if needsTrace(answers) && !req.NoTrace {
		res.DNS.Trace, res.DNS.TraceSkipped = trace(ctx, req, t.host)
	}
	l := judgeDNS(answers, t.host, req.ExpectIP, res.DNS.Trace)
	if l.Status == StatusFail {
		switch {
		case res.DNS.Trace != nil:
			l.Evidence += "; " + traceSummary(res.DNS.Trace)
		case res.DNS.TraceSkipped != "":
			l.Evidence += "; " + res.DNS.TraceSkipped
		}
	}
	l.Duration = time.Since(start)
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

// askAll asks every resolver at once; each gets half the layer's time (two
// tries of a quarter), leaving the rest for the delegation trace.
func askAll(ctx context.Context, req Request, servers []dnsq.Server, system int, host string) []ResolverAnswer {
	out := make([]ResolverAnswer, len(servers))
	client := &dnsq.Client{Timeout: req.timeout() / 4, Tries: 2, Dialer: req.Dialer}
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			out[i] = askOne(ctx, client, s, host, req.timeout())
			out[i].System = i < system
		})
	}
	wg.Wait()
	return out
}

// askOne asks for A and AAAA; the answer's rcode is the A query's.
func askOne(ctx context.Context, c *dnsq.Client, s dnsq.Server, host string, layer time.Duration) ResolverAnswer {
	a := ResolverAnswer{Resolver: s.String(), Addresses: []string{}}
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		resp, err := c.Exchange(ctx, s, dnsq.Query{Name: dns.Fqdn(host), Type: qt})
		if err != nil {
			if qt == dns.TypeA {
				a.Error, a.TimedOut = resolverError(err, c, layer), errors.Is(err, dnsq.ErrNoAnswer) || probe.IsTimeout(err)
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

// resolverError says why a resolver gave no answer, without Go's wording
// or the server (the answer names it).
func resolverError(err error, c *dnsq.Client, layer time.Duration) string {
	switch {
	case errors.Is(err, dnsq.ErrNoAnswer):
		return fmt.Sprintf("timed out after %s (%d tries)", c.Timeout*time.Duration(c.Tries), c.Tries)
	case probe.IsTimeout(err):
		return "timed out after " + layer.String()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens there)"
	}
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "querying ") {
		msg = rest
	}
	return msg
}

// judgeDNS turns the answers into the DNS layer. A resolver that did not
// answer is a finding of its own: it fails the layer when the others agree,
// and is named beside any other failure. SERVFAIL is blamed on the resolver
// when the trace shows the authoritative servers answering.
func judgeDNS(answers []ResolverAnswer, host string, expect []string, tr *dnsq.TraceResult) Layer {
	var failed, answered []ResolverAnswer
	for _, a := range answers {
		if a.Error != "" {
			failed = append(failed, a)
		} else {
			answered = append(answered, a)
		}
	}
	if len(answered) == 0 {
		return Layer{Name: "dns", Status: StatusFail, Evidence: "no resolver answered: " + describeFailed(failed),
			Cause: "the resolvers are down or unreachable, or a firewall drops DNS (port 53) on the way",
			Next:  fmt.Sprintf("dnsscience dig @%s %s; check the path to the resolvers, or try others with --resolvers", failed[0].Resolver, host)}
	}
	l := judgeAnswered(answered, host, expect, tr)
	l.Name = "dns"
	if len(failed) == 0 {
		return l
	}
	silent := "no answer from " + describeFailed(failed)
	if l.Status == StatusFail {
		l.Evidence += "; " + silent
		return l
	}
	return Layer{Name: "dns", Status: StatusFail,
		Evidence: silent + "; " + l.Evidence,
		Cause:    "that resolver is down or unreachable, or a firewall drops DNS to it: clients that use it cannot resolve the name",
		Next:     fmt.Sprintf("dnsscience dig @%s %s; check the resolver and the path to it, or take it out of the resolver list", failed[0].Resolver, host)}
}

// judgeAnswered judges the resolvers that answered.
func judgeAnswered(answered []ResolverAnswer, host string, expect []string, tr *dnsq.TraceResult) Layer {
	var nx, servfail, ok []ResolverAnswer
	for _, a := range answered {
		switch a.Rcode {
		case "NXDOMAIN":
			nx = append(nx, a)
		case "NOERROR":
			ok = append(ok, a)
		default:
			servfail = append(servfail, a)
		}
	}
	fail := func(evidence, cause, next string) Layer {
		return Layer{Status: StatusFail, Evidence: evidence, Cause: cause, Next: next}
	}
	traceCmd := "dnsscience dig --trace " + host
	switch {
	case len(nx) == len(answered):
		if auth := authoritativeAddrs(tr); len(auth) > 0 {
			return fail(fmt.Sprintf("%s does not exist for %s: NXDOMAIN, but the authoritative servers answer %s", host, plural(len(nx), "resolver"), strings.Join(auth, ", ")),
				"the name was added recently and the resolvers still cache the earlier NXDOMAIN (negative caching, up to the SOA minimum TTL)",
				"wait out the SOA minimum TTL, or flush the resolvers' caches; "+traceCmd+" shows what the authoritative servers say")
		}
		return fail(fmt.Sprintf("%s does not exist: NXDOMAIN from %s", host, plural(len(nx), "resolver")),
			"the record is missing from the zone, the name is misspelled, or the zone is not delegated",
			"check the zone for the name; "+traceCmd+" shows which servers answer NXDOMAIN")
	case len(nx) > 0:
		return fail(fmt.Sprintf("resolvers disagree: %s answer NXDOMAIN, %s", labels(nx), describe(append(ok, servfail...))),
			"a recent change has not reached every resolver yet (negative caching), or split-horizon DNS",
			"compare with the authoritative servers ("+traceCmd+") and wait for the SOA minimum TTL")
	case len(servfail) > 0:
		return judgeServfail(servfail, len(servfail) == len(answered), host, tr)
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
			"update the record, or check the expected addresses (--expect-ip)")
	}
	agree := fmt.Sprintf("%d resolvers agree", len(ok))
	if len(ok) == 1 {
		agree = "1 resolver"
	}
	return Layer{Status: StatusOK, Evidence: fmt.Sprintf("%s → %s (%s)", host, strings.Join(all, ", "), agree)}
}

// judgeServfail blames the resolvers when the trace shows the
// authoritative servers answering, the authoritative servers when the trace
// shows them failing, and says what to run when there is no trace.
func judgeServfail(sf []ResolverAnswer, all bool, host string, tr *dnsq.TraceResult) Layer {
	ev := fmt.Sprintf("%s: %s for %s", labels(sf), sf[0].Rcode, host)
	traceCmd := "dnsscience dig --trace " + host
	l := Layer{Status: StatusFail, Evidence: ev}
	switch {
	case tr == nil:
		l.Cause = "the resolver could not get an answer: the authoritative servers are unreachable or lame, or DNSSEC validation fails"
		l.Next = traceCmd + " --all-servers to see whether the authoritative servers answer; check DNSSEC signatures (DS/DNSKEY)"
	case authoritativeHealthy(tr):
		l.Evidence = fmt.Sprintf("%s answer %s for %s, but the authoritative servers answer %s", labels(sf), sf[0].Rcode, host, traceAnswer(tr))
		if all {
			l.Cause = "the resolvers fail although the authoritative servers answer: DNSSEC validation fails (expired signatures, a DS that matches no DNSKEY), or the resolvers cannot reach the authoritative servers from where they are"
			l.Next = fmt.Sprintf("dnsscience dig @%s %s +dnssec, and +cdflag to see whether validation is the cause; check the DS at the parent and the zone's signatures", sf[0].Resolver, host)
		} else {
			l.Cause = "the resolver itself fails (the others and the authoritative servers answer): it cannot reach the authoritative servers, fails DNSSEC validation, or serves a broken cache entry"
			l.Next = fmt.Sprintf("dnsscience dig @%s %s +dnssec and +cdflag; flush that resolver's cache or take it out of the list", sf[0].Resolver, host)
		}
	default:
		l.Cause = "the authoritative servers are unreachable or lame (see the trace), or DNSSEC validation fails"
		l.Next = traceCmd + " --all-servers to find the broken delegation; fix or remove the lame name servers"
	}
	return l
}

// authoritativeHealthy: the trace reached an answer and met no lame or
// unreachable server on the way (servers that differ in serial still
// answer).
func authoritativeHealthy(tr *dnsq.TraceResult) bool {
	if tr == nil || tr.Error != "" || (tr.Rcode != "NOERROR" && tr.Rcode != "NXDOMAIN") {
		return false
	}
	for _, f := range tr.Findings {
		if f.Kind == "lame" || f.Kind == "unreachable" {
			return false
		}
	}
	return true
}

// authoritativeAddrs are the addresses of a trace that answered NOERROR.
func authoritativeAddrs(tr *dnsq.TraceResult) []string {
	if tr == nil || tr.Rcode != "NOERROR" {
		return nil
	}
	var out []string
	for _, r := range tr.Answer {
		if r.Type == "A" || r.Type == "AAAA" {
			out = append(out, r.Data)
		}
	}
	return out
}

// traceAnswer is the trace's answer in a few words.
func traceAnswer(tr *dnsq.TraceResult) string {
	if addrs := authoritativeAddrs(tr); len(addrs) > 0 {
		return strings.Join(addrs, ", ")
	}
	return tr.Rcode
}

func describeFailed(as []ResolverAnswer) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.label() + ": " + a.Error
	}
	return strings.Join(parts, "; ")
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

// trace runs the delegation trace within ctx (the DNS layer's deadline).
// Without Roots or a Tracer it would start at the public roots: an internal
// name is not traced then, and the reason is returned instead.
func trace(ctx context.Context, req Request, host string) (*dnsq.TraceResult, string) {
	tr := req.Tracer
	if tr == nil {
		tr = &dnsq.Tracer{Roots: req.Roots, Port: req.RootsPort, AllServers: true}
	}
	if len(tr.Roots) == 0 && Internal(host, req.PrivateZones) {
		// No roots given: the trace would start at the public root servers.
		return nil, fmt.Sprintf("delegation not traced: %s is an internal name, not sent to the public roots (give your own roots with --roots)", host)
	}
	if tr.Client == nil {
		cp := *tr
		cp.Client = &dnsq.Client{Timeout: min(2*time.Second, req.timeout()/4), Tries: 2, Dialer: req.Dialer}
		tr = &cp
	}
	res, err := tr.Trace(ctx, host, dns.TypeA, nil)
	if res == nil {
		res = &dnsq.TraceResult{Name: dns.Fqdn(host), Error: fmt.Sprint(err)}
	}
	if ctx.Err() != nil {
		if err != nil {
			res.Error = "timed out after " + req.timeout().String()
		}
		// Servers asked when the time ran out did not fail: we stopped.
		res.Findings = slices.DeleteFunc(res.Findings, func(f dnsq.Finding) bool {
			return strings.Contains(f.Detail, context.DeadlineExceeded.Error()) || strings.Contains(f.Detail, context.Canceled.Error())
		})
	}
	res.Error = strings.TrimPrefix(res.Error, dnsq.ErrTraceFailed.Error()+": ")
	return res, ""
}

// serverLabel shows "name (address)" once when the name is the address.
func serverLabel(s string) string {
	name, rest, ok := strings.Cut(s, " (")
	if ok && strings.TrimSuffix(rest, ")") == name {
		return name
	}
	return s
}

// shortDetail words a finding without Go's network internals.
func shortDetail(d string) string {
	switch {
	case strings.Contains(d, dnsq.ErrNoAnswer.Error()) || strings.Contains(d, "i/o timeout") || strings.Contains(d, "deadline exceeded"):
		return "no answer"
	case strings.Contains(d, "connection refused"):
		return "connection refused"
	}
	return d
}

// maxFindingsShown bounds the findings the trace summary lists per kind.
const maxFindingsShown = 3

// traceSummary says where the delegation walk ended and what it met, in
// one bounded line.
func traceSummary(tr *dnsq.TraceResult) string {
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
		msg := tr.Error
		if i := strings.Index(msg, " (last: "); i > 0 && len(tr.Findings) > 0 {
			msg = msg[:i] // the findings below say what each server did
		}
		fmt.Fprintf(&b, ": trace failed: %s", msg)
	}
	shown := map[string]int{}
	for _, f := range tr.Findings {
		shown[f.Kind]++
		if shown[f.Kind] <= maxFindingsShown {
			fmt.Fprintf(&b, "; %s %s: %s", f.Kind, serverLabel(f.Server), shortDetail(f.Detail))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(shown)) {
		if n := shown[k] - maxFindingsShown; n > 0 {
			fmt.Fprintf(&b, "; %d more %s", n, k)
		}
	}
	return b.String()
}
