package measure

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// DNSOptions are the options of a dns measurement.
type DNSOptions struct {
	Type     string   `json:"type,omitempty" doc:"record type: A, AAAA, MX, TXT, HTTPS, TYPEnnn ..." default:"A"`
	Server   string   `json:"server,omitempty" doc:"resolver to ask: a name from the resolver list or an address (1.1.1.1, [::1]:53, tls://host, https://host/dns-query); default the process's own resolver"`
	Resolver string   `json:"resolver,omitempty" doc:"the same as server (the name suites used)"`
	DNSSEC   bool     `json:"dnssec,omitempty" doc:"set the DO bit: ask for DNSSEC records"`
	Timeout  Duration `json:"timeout,omitempty" doc:"bound on the query, all tries included" max:"15s" default:"6s"`
}

func (o *DNSOptions) overall() time.Duration { return o.Timeout.D() }

// question validates a name target and a record type option.
func question(target, typ string) (string, uint16, error) {
	name, err := dnsq.NormalizeName(target)
	if err != nil || strings.ContainsAny(target, "/:@") {
		msg := "want a domain name such as api.example.com"
		if err != nil {
			msg = strings.TrimPrefix(err.Error(), "bad domain name: ")
		}
		return "", 0, fieldErr("target", "%s", msg)
	}
	qt := dns.TypeA
	if typ != "" {
		var ok bool
		if qt, ok = dnsq.ParseType(typ); !ok || qt == 0 {
			return "", 0, fieldErr("options.type", "unknown record type %q; want A, AAAA, MX, TXT, HTTPS, TYPEnnn ...", typ)
		}
	}
	return name, qt, nil
}

func dnsKind() Kind {
	return &spec[DNSOptions]{
		info: Info{Name: "dns", Summary: "one DNS query", Target: "a domain name such as example.com", Class: "dns",
			Timeout: 15 * time.Second,
			Vars:    []string{"dns.rcode", "dns.answers", "dns.count", "dns.rtt", "dns.ttl", "dns.resolver", "dns.authoritative"}},
		prepare: prepareDNS,
		values:  dnsValues,
	}
}

func prepareDNS(_ context.Context, env *Env, target string, o *DNSOptions) (RunFunc, []string, error) {
	name, qt, err := question(target, o.Type)
	if err != nil {
		return nil, nil, err
	}
	server, field := o.Server, "options.server"
	if server == "" {
		server, field = o.Resolver, "options.resolver"
	} else if o.Resolver != "" && o.Resolver != o.Server {
		return nil, nil, fieldErr("options.resolver", "give server or resolver, not both")
	}
	var srv dnsq.Server
	trusted := true
	if server != "" {
		if srv, trusted, err = env.server(field, server); err != nil {
			return nil, nil, err
		}
	}
	client := env.dnsClient(trusted, o.Timeout.D())
	return func(ctx context.Context, _ Emit) (any, error) {
		s := srv
		if server == "" {
			up, err := env.upstream()
			if err != nil {
				return nil, err
			}
			s = up[0]
		}
		resp, err := client.Exchange(ctx, s, dnsq.Query{Name: name, Type: qt, DO: o.DNSSEC})
		if err != nil {
			return nil, err
		}
		return dnsq.NewReply(resp), nil
	}, nil, nil
}

func dnsValues(result any) *Values {
	r := result.(dnsq.Reply)
	var answers []string
	var ttl uint32
	qt := ""
	if len(r.Question) > 0 {
		qt = r.Question[0].Type
	}
	for _, rr := range r.Answer {
		if rr.Type != qt {
			continue
		}
		if len(answers) == 0 || rr.TTL < ttl {
			ttl = rr.TTL
		}
		answers = append(answers, rr.Data)
	}
	slices.Sort(answers)
	m := map[string]any{
		"ok": r.Error == "" && r.Header.Rcode == "NOERROR", "error": r.Error, "dns.resolver": r.Server,
		"dns.rcode": r.Header.Rcode, "dns.answers": answers, "dns.count": float64(len(answers)),
		"dns.rtt": time.Duration(r.RTTMs * float64(time.Millisecond)), "dns.ttl": float64(ttl),
		"dns.authoritative": slices.Contains(r.Header.Flags, "aa"), "address": r.Server,
	}
	return &Values{M: m}
}

// PropagationOptions are the options of a propagation measurement.
type PropagationOptions struct {
	Type      string   `json:"type,omitempty" doc:"record type" default:"A"`
	Resolvers []string `json:"resolvers,omitempty" doc:"resolvers to ask, by name or address; default every listed resolver" max:"64"`
	Expect    []string `json:"expect,omitempty" doc:"values every resolver must return (an address, a name ...)" max:"32"`
	Transport string   `json:"transport,omitempty" doc:"how named resolvers are asked: udp, tcp, tls (DoT) or https (DoH)" enum:"udp,tcp,tls,https" default:"udp"`
	Timeout   Duration `json:"timeout,omitempty" doc:"bound on each resolver's query, all tries included" max:"30s" default:"6s"`
	Tries     int      `json:"tries,omitempty" doc:"tries per resolver" min:"1" max:"5" default:"2"`
	TrustOptions
}

func (o *PropagationOptions) overall() time.Duration { return o.Timeout.D() }

func propagationKind() Kind {
	return &spec[PropagationOptions]{
		info: Info{Name: "propagation", Summary: "one question to many resolvers, compared", Target: "a domain name such as example.com",
			Class: "propagation", Timeout: 30 * time.Second, Events: []string{"answer"},
			Vars: []string{"dns.rcode", "dns.answers", "dns.count", "propagation.total", "propagation.answered", "propagation.failed",
				"propagation.consistent", "propagation.distinct", "propagation.verdict", "propagation.failing", "propagation.missing"}},
		prepare: preparePropagation,
		values:  propagationValues,
	}
}

func preparePropagation(_ context.Context, env *Env, target string, o *PropagationOptions) (RunFunc, []string, error) {
	name, qt, err := question(target, o.Type)
	if err != nil {
		return nil, nil, err
	}
	p := &dnsq.Propagation{Expect: o.Expect, Transport: dnsq.Transport(o.Transport)}
	trusted := true
	if len(o.Resolvers) == 0 {
		p.Resolvers = env.resolverList()
	}
	for i, entry := range o.Resolvers {
		field := fmt.Sprintf("options.resolvers[%d]", i)
		r, named, err := env.resolver(field, entry)
		if err != nil {
			return nil, nil, err
		}
		trusted = trusted && named
		p.Resolvers = append(p.Resolvers, r)
		if named {
			continue
		}
		// One transport for all: a resolver given by address brings its
		// own (plain DNS goes over udp or tcp alike).
		switch t := transportOf(r); {
		case p.Transport == "":
			p.Transport = t
		case t == dnsq.UDP && (p.Transport == dnsq.UDP || p.Transport == dnsq.TCP):
		case t != p.Transport:
			return nil, nil, fieldErr(field, "%s is asked over %s, the others over %s; give resolvers of one transport", entry, t, p.Transport)
		}
	}
	p.Client = env.dnsClient(trusted, o.Timeout.D())
	if o.Tries > 0 {
		p.Client.Timeout = p.Client.Timeout * 2 / time.Duration(o.Tries)
		p.Client.Tries = o.Tries
	}
	cfg, err := env.tlsConfig(o.TrustOptions)
	if err != nil {
		return nil, nil, err
	}
	p.Client.TLSConfig = cfg
	return func(ctx context.Context, emit Emit) (any, error) {
		return p.Run(ctx, name, qt, func(a dnsq.ResolverAnswer) { emit("answer", a) })
	}, nil, nil
}

func transportOf(r dnsq.Resolver) dnsq.Transport {
	switch {
	case r.DoT != "":
		return dnsq.TLS
	case r.DoH != "":
		return dnsq.HTTPS
	}
	return dnsq.UDP
}

func propagationValues(result any) *Values {
	res := result.(*dnsq.PropagationResult)
	union := map[string]bool{}
	rcodes := map[string]bool{}
	answered := 0
	var errs, failing []string
	for _, a := range res.Results {
		if a.Error != "" {
			errs = append(errs, a.Resolver+": "+a.Error)
			failing = append(failing, a.Resolver)
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
	slices.Sort(all)
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
		"propagation.failing": failing, "propagation.missing": res.Missing,
	}
	if !res.Consistent && res.Verdict != "" && m["error"] == "" {
		m["error"] = "propagation " + res.Verdict + ": " + propagationDetail(res)
	}
	return &Values{M: m}
}

// propagationDetail names the resolvers behind a verdict: those missing an
// expected value, else each group of resolvers with what it answered.
func propagationDetail(res *dnsq.PropagationResult) string {
	if len(res.Missing) > 0 {
		return "missing " + strings.Join(res.Missing, "; ")
	}
	var parts []string
	for _, g := range res.Groups {
		answer := strings.Join(g.Answers, ", ")
		if answer == "" {
			answer = "no records"
		}
		parts = append(parts, strings.Join(g.Resolvers, ", ")+": "+g.Rcode+" "+answer)
	}
	return strings.Join(parts, "; ")
}
