package check

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
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

func qtype(c *Check) uint16 {
	if c.Options.Type != "" {
		return dns.StringToType[strings.ToUpper(c.Options.Type)]
	}
	return dns.TypeA
}

// dnsClient sends a check's queries: two tries within the check's timeout.
func (r *Runner) dnsClient(c *Check, d Defaults) *dnsq.Client {
	t := c.Options.timeout
	if t == 0 {
		t = d.Timeout
	}
	if t == 0 {
		t = probe.DefaultTimeout
	}
	return &dnsq.Client{Timeout: t / 2, Tries: 2, Dialer: r.dialer()}
}

func (r *Runner) ask(ctx context.Context, c *Check, d Defaults, srv dnsq.Server) DNSAnswer {
	qt := qtype(c)
	a := DNSAnswer{Resolver: srv.String()}
	resp, err := r.dnsClient(c, d).Exchange(ctx, srv, dnsq.Query{Name: dns.Fqdn(c.Target), Type: qt})
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.Rcode, a.RTT, a.AA = dns.RcodeToString[resp.Msg.Rcode], resp.RTT, resp.Msg.Authoritative
	a.RTTMs = float64(resp.RTT.Microseconds()) / 1000
	for i, rr := range resp.Msg.Answer {
		if rr.Header().Rrtype != qt {
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

// propagationCheck asks every resolver through dnsq.Propagation.
func (r *Runner) propagationCheck(ctx context.Context, c *Check, d Defaults) (Env, any, error) {
	servers, err := r.servers(c.Options.Resolvers, d)
	if err != nil {
		return nil, nil, err
	}
	p := &dnsq.Propagation{Client: r.dnsClient(c, d), Transport: servers[0].Transport}
	for _, s := range servers {
		if s.Transport != p.Transport {
			return nil, nil, fmt.Errorf("propagation resolvers must share one transport: %s is %s, %s is %s", servers[0], p.Transport, s, s.Transport)
		}
		p.Resolvers = append(p.Resolvers, asResolver(s))
	}
	res, err := p.Run(ctx, c.Target, qtype(c), nil)
	if err != nil {
		return nil, nil, err
	}
	return propagationVars(res), res, nil
}

// asResolver describes a parsed server as a dnsq.Resolver.
func asResolver(s dnsq.Server) dnsq.Resolver {
	rv := dnsq.Resolver{Name: s.String()}
	switch s.Transport {
	case dnsq.TLS:
		rv.DoT = s.Addr
	case dnsq.HTTPS:
		rv.DoH = s.Addr
	default:
		host, port, _ := net.SplitHostPort(s.Addr)
		rv.IPv4 = []string{host}
		rv.Port, _ = strconv.Atoi(port)
	}
	return rv
}

func propagationVars(res *dnsq.PropagationResult) Env {
	union := map[string]bool{}
	rcodes := map[string]bool{}
	answered := 0
	var errs []string
	for _, a := range res.Results {
		if a.Error != "" {
			errs = append(errs, a.Resolver+": "+a.Error)
			continue
		}
		answered++
		rcodes[a.Rcode] = true
		for _, x := range a.Answers {
			_, data, _ := strings.Cut(x, " ")
			union[data] = true
		}
	}
	all := make([]string, 0, len(union))
	for x := range union {
		all = append(all, x)
	}
	sort.Strings(all)
	var rcode any
	for k := range rcodes {
		rcode = k
	}
	if len(rcodes) > 1 {
		rcode = "MIXED"
	}
	m := map[string]any{
		"ok": res.Consistent && rcode == "NOERROR", "error": strings.Join(errs, "; "),
		"dns.rcode": rcode, "dns.answers": all, "dns.count": float64(len(all)),
		"propagation.total": float64(len(res.Results)), "propagation.answered": float64(answered),
		"propagation.failed": float64(len(res.Failing)), "propagation.consistent": res.Consistent,
		"propagation.distinct": float64(len(res.Groups)), "propagation.verdict": res.Verdict,
	}
	if !res.Consistent && res.Verdict != "" && m["error"] == "" {
		m["error"] = "propagation " + res.Verdict
	}
	return &vars{m: m}
}

func (r *Runner) diagnoseCheck(ctx context.Context, c *Check, d Defaults) (Env, any, error) {
	req := diagnose.Request{URL: c.Target, ExpectIP: c.Options.ExpectIP, Insecure: c.Options.Insecure, Dialer: r.dialer(), ResolvConf: r.ResolvConf}
	if c.Options.ConnectTo != "" {
		req.ConnectTo = []string{c.Options.ConnectTo}
	}
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
