package check

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/diagnose"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/probe"
	"github.com/miekg/dns"
)

// measure runs the engine for c and returns its variables and raw result.
func (r *Runner) measure(ctx context.Context, c *Check, d Defaults) (Env, any, error) {
	switch c.Kind {
	case "dns":
		return r.dnsCheck(ctx, c, d)
	case "propagation":
		return r.propagationCheck(ctx, c, d)
	case "diagnose":
		return r.diagnoseCheck(ctx, c, d)
	}
	pr, err := r.probe(ctx, c, d)
	if err != nil {
		return nil, nil, err
	}
	return probeVars(pr), pr, nil
}

func (r *Runner) probe(ctx context.Context, c *Check, d Defaults) (*probe.Result, error) {
	o := c.Options
	opts := r.options(c, d)
	pool, err := roots(c, d)
	if err != nil {
		return nil, err
	}
	header := http.Header{}
	for k, v := range o.Headers {
		header.Set(k, v)
	}
	switch c.Kind {
	case "tcp":
		return probe.TCP(ctx, probe.TCPRequest{Address: c.Target, Options: opts, Send: o.Send, Expect: o.Expect})
	case "tls":
		return probe.TLS(ctx, probe.TLSRequest{Address: c.Target, Options: opts, ServerName: o.SNI, RootCAs: pool, WarnDays: o.WarnDays})
	case "http":
		return probe.HTTP(ctx, probe.HTTPRequest{URL: c.Target, Options: opts, Method: o.Method, Header: header,
			Body: []byte(o.Body), Host: o.Host, FollowRedirects: o.FollowRedirects, RootCAs: pool, Insecure: o.Insecure})
	case "ws":
		return probe.WS(ctx, probe.WSRequest{URL: c.Target, Options: opts, Header: header, Host: o.Host,
			Subprotocols: o.Subprotocols, Send: o.Send, Expect: o.Expect, Linger: o.linger, RootCAs: pool, Insecure: o.Insecure})
	}
	return nil, fmt.Errorf("unknown kind %q", c.Kind)
}

// probeVars exposes a probe result to conditions.
func probeVars(p *probe.Result) Env {
	m := map[string]any{
		"ok": p.OK, "error": p.Error, "phase": string(p.Phase), "address": p.Address,
		"duration":    p.Timings.Total,
		"timings.dns": p.Timings.DNS, "timings.connect": p.Timings.Connect, "timings.tls": p.Timings.TLS,
		"timings.first_byte": p.Timings.FirstByte, "timings.total": p.Timings.Total,
	}
	v := &vars{m: m}
	if t := p.TCP; t != nil {
		m["tcp.received"], m["tcp.family"] = t.Received, t.Family
	}
	if t := p.TLS; t != nil {
		tlsVars(m, t)
	}
	if h := p.HTTP; h != nil && h.Status != 0 {
		m["status"], m["body_size"], m["body"], m["http.proto"] = float64(h.Status), float64(h.BodySize), h.Body, h.Proto
		m["tls.version"] = h.TLSVersion
		if !h.CertExpiry.IsZero() {
			m["cert.expires_in"] = time.Until(h.CertExpiry)
		}
		v.header, v.body = h.Header, h.Body
	}
	if w := p.WS; w != nil {
		m["ws.status"], m["ws.close_code"], m["ws.close_reason"] = float64(w.Status), float64(w.CloseCode), w.CloseReason
		m["ws.received"], m["ws.subprotocol"] = w.Received, w.Subprotocol
	}
	return v
}

func tlsVars(m map[string]any, t *probe.TLSInfo) {
	var names []string
	for _, f := range t.Findings {
		names = append(names, f.Name)
	}
	m["cert.findings"], m["cert.trusted"], m["cert.hostname_ok"] = names, t.Trusted, t.HostnameOK
	m["cert.days_left"] = float64(t.DaysLeft)
	m["tls.version"], m["tls.cipher"], m["tls.alpn"], m["tls.ocsp_stapled"] = t.Version, t.CipherSuite, t.ALPN, t.OCSPStapled
	if !t.LeafExpiry.IsZero() {
		m["cert.expires_in"] = time.Until(t.LeafExpiry)
		m["cert.chain_expires_in"] = time.Until(t.ServedChainExpiry)
	}
	if !t.VerifiedChainExpiry.IsZero() {
		m["cert.verified_chain_expires_in"] = time.Until(t.VerifiedChainExpiry)
	}
	if len(t.Chain) > 0 {
		m["cert.subject"], m["cert.issuer"], m["cert.sha256"] = t.Chain[0].Subject, t.Chain[0].Issuer, t.Chain[0].SHA256
	}
}

// DNSAnswer is one resolver's answer in a dns or propagation check.
type DNSAnswer struct {
	Resolver string        `json:"resolver"`
	Rcode    string        `json:"rcode,omitempty"`
	Answers  []string      `json:"answers,omitempty"`
	TTL      uint32        `json:"ttl,omitempty"`
	RTT      time.Duration `json:"-"`
	RTTMs    float64       `json:"rtt_ms"`
	AA       bool          `json:"authoritative,omitempty"`
	Error    string        `json:"error,omitempty"`
}

func (r *Runner) ask(ctx context.Context, c *Check, d Defaults, srv dnsq.Server) DNSAnswer {
	t := c.Options.timeout
	if t == 0 {
		t = d.Timeout
	}
	if t == 0 {
		t = probe.DefaultTimeout
	}
	qtype := dns.TypeA
	if c.Options.Type != "" {
		qtype = dns.StringToType[strings.ToUpper(c.Options.Type)]
	}
	client := &dnsq.Client{Timeout: t / 2, Tries: 2, Dialer: r.dialer()}
	a := DNSAnswer{Resolver: srv.String()}
	resp, err := client.Exchange(ctx, srv, dnsq.Query{Name: dns.Fqdn(c.Target), Type: qtype})
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.Rcode, a.RTT, a.AA = dns.RcodeToString[resp.Msg.Rcode], resp.RTT, resp.Msg.Authoritative
	a.RTTMs = float64(resp.RTT.Microseconds()) / 1000
	for i, rr := range resp.Msg.Answer {
		if rr.Header().Rrtype != qtype {
			continue
		}
		a.Answers = append(a.Answers, Rdata(rr))
		if i == 0 || rr.Header().Ttl < a.TTL {
			a.TTL = rr.Header().Ttl
		}
	}
	sort.Strings(a.Answers)
	return a
}

// Rdata renders a record's data alone: an address, a name, "10 mx.example."
func Rdata(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.A:
		return v.A.String()
	case *dns.AAAA:
		return v.AAAA.String()
	case *dns.TXT:
		return strings.Join(v.Txt, "")
	}
	return strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String()))
}

func (r *Runner) dnsCheck(ctx context.Context, c *Check, d Defaults) (Env, any, error) {
	var own []string
	if c.Options.Resolver != "" {
		own = []string{c.Options.Resolver}
	}
	servers, err := r.servers(own, d)
	if err != nil {
		return nil, nil, err
	}
	a := r.ask(ctx, c, d, servers[0])
	m := map[string]any{
		"ok": a.Error == "" && a.Rcode == "NOERROR", "error": a.Error, "dns.resolver": a.Resolver,
		"dns.rcode": a.Rcode, "dns.answers": a.Answers, "dns.count": float64(len(a.Answers)),
		"dns.rtt": a.RTT, "dns.ttl": float64(a.TTL), "dns.authoritative": a.AA,
	}
	if a.Error != "" {
		m["dns.rcode"] = nil
	}
	return &vars{m: m}, a, nil
}

func (r *Runner) propagationCheck(ctx context.Context, c *Check, d Defaults) (Env, any, error) {
	servers, err := r.servers(c.Options.Resolvers, d)
	if err != nil {
		return nil, nil, err
	}
	answers := make([]DNSAnswer, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { answers[i] = r.ask(ctx, c, d, s) })
	}
	wg.Wait()
	return propagationVars(answers), answers, nil
}

func propagationVars(answers []DNSAnswer) Env {
	sets, rcodes := map[string]bool{}, map[string]bool{}
	union := map[string]bool{}
	answered := 0
	var errs []string
	for _, a := range answers {
		if a.Error != "" {
			errs = append(errs, a.Resolver+": "+a.Error)
			continue
		}
		answered++
		rcodes[a.Rcode] = true
		sets[a.Rcode+" "+strings.Join(a.Answers, ",")] = true
		for _, x := range a.Answers {
			union[x] = true
		}
	}
	all := make([]string, 0, len(union))
	for x := range union {
		all = append(all, x)
	}
	sort.Strings(all)
	rcode := any(nil)
	if len(rcodes) == 1 {
		for k := range rcodes {
			rcode = k
		}
	} else if len(rcodes) > 1 {
		rcode = "MIXED"
	}
	consistent := answered == len(answers) && len(sets) == 1
	m := map[string]any{
		"ok": consistent && rcode == "NOERROR", "error": strings.Join(errs, "; "),
		"dns.rcode": rcode, "dns.answers": all, "dns.count": float64(len(all)),
		"propagation.total": float64(len(answers)), "propagation.answered": float64(answered),
		"propagation.failed": float64(len(answers) - answered), "propagation.consistent": consistent,
		"propagation.distinct": float64(len(sets)),
	}
	return &vars{m: m}
}

func (r *Runner) diagnoseCheck(ctx context.Context, c *Check, d Defaults) (Env, any, error) {
	req := diagnose.Request{URL: c.Target, ExpectIP: c.Options.ExpectIP, Insecure: c.Options.Insecure, Dialer: r.dialer(), ResolvConf: r.ResolvConf}
	req.Timeout = c.Options.timeout
	if req.Timeout == 0 {
		req.Timeout = d.Timeout
	}
	if list := c.Options.Resolvers; len(list) > 0 || len(d.Resolvers) > 0 {
		servers, err := r.servers(list, d)
		if err != nil {
			return nil, nil, err
		}
		req.Resolvers, req.NoSystem = servers, true
	}
	pool, err := roots(c, d)
	if err != nil {
		return nil, nil, err
	}
	req.RootCAs = pool
	res, err := diagnose.Run(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	m := map[string]any{"ok": res.OK, "duration": res.Duration, "diagnose.addresses": res.Addresses,
		"diagnose.failed_layer": "", "diagnose.verdict": "", "error": ""}
	if v := res.Verdict; v != nil {
		m["diagnose.failed_layer"], m["diagnose.verdict"], m["error"] = v.Layer, v.Problem, v.Problem
	}
	return &vars{m: m}, res, nil
}
