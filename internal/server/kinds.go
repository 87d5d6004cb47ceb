package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/diagnose"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/probe"
)

// runFunc runs one validated measurement; emit streams partial results.
type runFunc func(ctx context.Context, emit func(typ string, data any)) (any, error)

// kind is one measurement type: its rate-limit class, how long it may run,
// whether its target is something the server connects to (and so subject
// to the target policy), and how to turn a request into a run.
type kind struct {
	class    string
	timeout  time.Duration
	connects bool
	prepare  func(ctx context.Context, s *Server, target string, opts json.RawMessage) (runFunc, error)
}

// measurementKinds lists every measurement type the API accepts.
func measurementKinds() map[string]kind {
	return map[string]kind{
		"dns":         {class: "dns", timeout: 15 * time.Second, prepare: prepareDNS},
		"propagation": {class: "propagation", timeout: 30 * time.Second, prepare: preparePropagation},
		"tcp":         {class: "probe", timeout: 30 * time.Second, connects: true, prepare: prepareTCP},
		"cert":        {class: "probe", timeout: 30 * time.Second, connects: true, prepare: prepareCert},
		"http":        {class: "probe", timeout: 30 * time.Second, connects: true, prepare: prepareHTTP},
		"ws":          {class: "probe", timeout: 30 * time.Second, connects: true, prepare: prepareWS},
		"trace":       {class: "trace", timeout: 120 * time.Second, connects: true, prepare: prepareTrace},
		"geo":         {class: "geo", timeout: 15 * time.Second, prepare: prepareGeo},
		"diagnose":    {class: "diagnose", timeout: 90 * time.Second, connects: true, prepare: prepareDiagnose},
	}
}

// decodeOptions decodes a kind's options strictly: unknown fields are
// errors naming the field.
func decodeOptions(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return fieldError("options."+strings.Trim(f, `"`), "unknown option for this measurement type")
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fieldError("options."+strings.TrimPrefix(te.Field, "probeOptions."), "want a %s, got a JSON %s", te.Type, te.Value)
		}
		return fieldError("options", "not a valid JSON object: %v", err)
	}
	return nil
}

func targetName(target string) (string, error) {
	name, err := dnsq.NormalizeName(target)
	if err != nil {
		return "", fieldError("target", "%s", strings.TrimPrefix(err.Error(), "bad domain name: "))
	}
	return name, nil
}

func recordType(t string) (uint16, error) {
	if t == "" {
		return dns.TypeA, nil
	}
	qt, ok := dnsq.ParseType(t)
	if !ok {
		return 0, fieldError("options.type", "unknown record type %q; want A, AAAA, MX, TXT, HTTPS, TYPEnnn ...", t)
	}
	return qt, nil
}

// question validates a measurement's name and record type.
func question(target, typ string) (string, uint16, error) {
	name, err := targetName(target)
	if err != nil {
		return "", 0, err
	}
	qt, err := recordType(typ)
	return name, qt, err
}

// namedResolvers looks resolver names up in the server's list.
func (s *Server) namedResolvers(names []string) ([]dnsq.Resolver, error) {
	var out []dnsq.Resolver
	for i, n := range names {
		r, ok := dnsq.FindResolver(n, s.cfg.Resolvers)
		if !ok {
			return nil, fieldError(fmt.Sprintf("options.resolvers[%d]", i), "unknown resolver %q; see GET /api/v1/resolvers", n)
		}
		out = append(out, r)
	}
	return out, nil
}

func prepareDNS(ctx context.Context, s *Server, target string, raw json.RawMessage) (runFunc, error) {
	var o struct {
		Type   string `json:"type"`
		Server string `json:"server"`
		DNSSEC bool   `json:"dnssec"`
	}
	if err := decodeOptions(raw, &o); err != nil {
		return nil, err
	}
	name, qt, err := question(target, o.Type)
	if err != nil {
		return nil, err
	}
	srv, err := s.upstream(o.Server)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, _ func(string, any)) (any, error) {
		resp, err := s.client.Exchange(ctx, srv, dnsq.Query{Name: name, Type: qt, DO: o.DNSSEC})
		if err != nil {
			return nil, err
		}
		return dnsq.NewReply(resp), nil
	}, nil
}

func preparePropagation(ctx context.Context, s *Server, target string, raw json.RawMessage) (runFunc, error) {
	var o struct {
		Type      string   `json:"type"`
		Resolvers []string `json:"resolvers"`
		Expect    []string `json:"expect"`
	}
	if err := decodeOptions(raw, &o); err != nil {
		return nil, err
	}
	name, qt, err := question(target, o.Type)
	if err != nil {
		return nil, err
	}
	resolvers := s.cfg.Resolvers
	if len(o.Resolvers) > 0 {
		if resolvers, err = s.namedResolvers(o.Resolvers); err != nil {
			return nil, err
		}
	}
	p := &dnsq.Propagation{Client: s.client, Resolvers: resolvers, Expect: o.Expect}
	return func(ctx context.Context, emit func(string, any)) (any, error) {
		return p.Run(ctx, name, qt, func(a dnsq.ResolverAnswer) { emit("answer", a) })
	}, nil
}

// probeOptions are shared by the probe kinds.
type probeOptions struct {
	TimeoutMs int    `json:"timeout_ms"`
	ConnectTo string `json:"connect_to"`
}

func (s *Server) probeOpts(ctx context.Context, o probeOptions) (probe.Options, error) {
	if o.TimeoutMs < 0 || o.TimeoutMs > 30000 {
		return probe.Options{}, fieldError("options.timeout_ms", "want 1 to 30000 milliseconds")
	}
	if o.ConnectTo != "" {
		if err := s.checkTarget(ctx, o.ConnectTo); err != nil {
			return probe.Options{}, err
		}
	}
	return probe.Options{Timeout: time.Duration(o.TimeoutMs) * time.Millisecond, Dialer: s.dialer, ConnectTo: o.ConnectTo}, nil
}

// withProbeOptions is implemented by every probe kind's options (through
// the embedded probeOptions).
type withProbeOptions interface{ base() probeOptions }

func (o probeOptions) base() probeOptions { return o }

// prepareProbe decodes a probe kind's options into O, applies the shared
// probe options (timeout, connect-to, the policy dialer) and returns the run.
func prepareProbe[O withProbeOptions](ctx context.Context, s *Server, raw json.RawMessage, run func(ctx context.Context, opts probe.Options, o *O) (*probe.Result, error)) (runFunc, error) {
	var o O
	if err := decodeOptions(raw, &o); err != nil {
		return nil, err
	}
	opts, err := s.probeOpts(ctx, o.base())
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, _ func(string, any)) (any, error) {
		res, err := run(ctx, opts, &o)
		if err != nil {
			return nil, err
		}
		return res, nil
	}, nil
}

func headerOf(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

type tcpOptions struct {
	probeOptions
	Send   string `json:"send"`
	Expect string `json:"expect"`
}

func prepareTCP(ctx context.Context, s *Server, target string, raw json.RawMessage) (runFunc, error) {
	return prepareProbe(ctx, s, raw, func(ctx context.Context, opts probe.Options, o *tcpOptions) (*probe.Result, error) {
		return probe.TCP(ctx, probe.TCPRequest{Address: target, Options: opts, Send: o.Send, Expect: o.Expect})
	})
}

type certOptions struct {
	probeOptions
	SNI      string `json:"sni"`
	WarnDays int    `json:"warn_days"`
}

func prepareCert(ctx context.Context, s *Server, target string, raw json.RawMessage) (runFunc, error) {
	return prepareProbe(ctx, s, raw, func(ctx context.Context, opts probe.Options, o *certOptions) (*probe.Result, error) {
		return probe.TLS(ctx, probe.TLSRequest{Address: target, Options: opts, ServerName: o.SNI, WarnDays: o.WarnDays, RootCAs: s.cfg.RootCAs})
	})
}

type httpOptions struct {
	probeOptions
	Method          string            `json:"method"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	Host            string            `json:"host"`
	FollowRedirects bool              `json:"follow_redirects"`
}

func prepareHTTP(ctx context.Context, s *Server, target string, raw json.RawMessage) (runFunc, error) {
	return prepareProbe(ctx, s, raw, func(ctx context.Context, opts probe.Options, o *httpOptions) (*probe.Result, error) {
		return probe.HTTP(ctx, probe.HTTPRequest{URL: target, Options: opts, Method: o.Method, Header: headerOf(o.Headers),
			Body: []byte(o.Body), Host: o.Host, FollowRedirects: o.FollowRedirects, RootCAs: s.cfg.RootCAs})
	})
}

type wsOptions struct {
	probeOptions
	Headers      map[string]string `json:"headers"`
	Subprotocols []string          `json:"subprotocols"`
	Send         string            `json:"send"`
	Expect       string            `json:"expect"`
}

func prepareWS(ctx context.Context, s *Server, target string, raw json.RawMessage) (runFunc, error) {
	return prepareProbe(ctx, s, raw, func(ctx context.Context, opts probe.Options, o *wsOptions) (*probe.Result, error) {
		return probe.WS(ctx, probe.WSRequest{URL: target, Options: opts, Header: headerOf(o.Headers), Subprotocols: o.Subprotocols,
			Send: o.Send, Expect: o.Expect, RootCAs: s.cfg.RootCAs})
	})
}

func prepareDiagnose(ctx context.Context, s *Server, target string, raw json.RawMessage) (runFunc, error) {
	var o struct {
		Resolvers []string `json:"resolvers"`
		ExpectIP  []string `json:"expect_ip"`
	}
	if err := decodeOptions(raw, &o); err != nil {
		return nil, err
	}
	named, err := s.namedResolvers(o.Resolvers)
	if err != nil {
		return nil, err
	}
	var resolvers []dnsq.Server
	for i, r := range named {
		srv, err := r.Server(dnsq.UDP)
		if err != nil {
			return nil, fieldError(fmt.Sprintf("options.resolvers[%d]", i), "%v", err)
		}
		resolvers = append(resolvers, srv)
	}
	return func(ctx context.Context, emit func(string, any)) (any, error) {
		return diagnose.Run(ctx, diagnose.Request{URL: target, Resolvers: resolvers, System: s.cfg.Upstream,
			ExpectIP: o.ExpectIP, Dialer: s.dialer, RootCAs: s.cfg.RootCAs, Tracer: s.cfg.Tracer,
			OnLayer: func(l diagnose.Layer) { emit("layer", l) }})
	}, nil
}
