package measure

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/probe"
)

// ProbeOptions are shared by the tcp, cert, http and ws kinds.
type ProbeOptions struct {
	Timeout   Duration `json:"timeout,omitempty" doc:"bound on the whole probe" max:"30s" default:"10s"`
	TimeoutMs int      `json:"timeout_ms,omitempty" doc:"the same in milliseconds (older name)" min:"1" max:"30000"`
	ConnectTo string   `json:"connect_to,omitempty" doc:"address (IP or host, optional port) to connect to instead of the target's host, which still names SNI and Host (curl --resolve)"`
	IPVersion int      `json:"ip_version,omitempty" doc:"4 or 6: connect over that family only" enum:"4,6"`
}

func (o *ProbeOptions) overall() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout.D()
	}
	if o.TimeoutMs > 0 {
		return time.Duration(o.TimeoutMs) * time.Millisecond
	}
	return probe.DefaultTimeout
}

// TrustOptions are shared by the kinds that speak TLS.
type TrustOptions struct {
	CA       string `json:"ca,omitempty" doc:"CA certificates (PEM) to trust instead of the system roots; suites and the CLI take a file"`
	Insecure bool   `json:"insecure,omitempty" doc:"do not verify the certificate (findings are still reported)"`
}

func (o *TrustOptions) trust() *TrustOptions { return o }

func (o *ProbeOptions) engine(env *Env, target string) (probe.Options, []string, error) {
	opts := probe.Options{Timeout: o.overall(), Dialer: env.dialer(), ConnectTo: o.ConnectTo}
	if o.IPVersion != 0 {
		opts.Network = fmt.Sprintf("tcp%d", o.IPVersion)
	}
	hosts := []string{hostOf(target)}
	if o.ConnectTo != "" {
		h := o.ConnectTo
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		if _, _, err := hostAddr("options.connect_to", h); err != nil {
			return opts, nil, err
		}
		hosts = append(hosts, strings.Trim(h, "[]"))
	}
	return opts, hosts, nil
}

// probeSpec builds a probe kind: validate the target, build the engine
// options, and run.
func probeSpec[O any](info Info, check func(target string, o *O) error,
	base func(*O) *ProbeOptions, run func(ctx context.Context, env *Env, target string, opts probe.Options, o *O) (*probe.Result, error),
	values func(*probe.Result) *Values) *spec[O] {
	info.Class, info.Connects, info.Timeout = "probe", true, 35*time.Second
	return &spec[O]{
		info: info,
		prepare: func(ctx context.Context, env *Env, target string, o *O) (RunFunc, []string, error) {
			if err := check(target, o); err != nil {
				return nil, nil, err
			}
			opts, hosts, err := base(o).engine(env, target)
			if err != nil {
				return nil, nil, err
			}
			if t, ok := any(o).(interface{ trust() *TrustOptions }); ok {
				if _, err := env.rootCAs("options.ca", t.trust().CA); err != nil {
					return nil, nil, err
				}
			}
			return func(ctx context.Context, _ Emit) (any, error) {
				return run(ctx, env, target, opts, o)
			}, hosts, nil
		},
		values: func(r any) *Values { return values(r.(*probe.Result)) },
	}
}

var timingVars = []string{"timings.dns", "timings.connect", "timings.tls", "timings.first_byte", "timings.total"}

// TCPOptions are the options of a tcp measurement.
type TCPOptions struct {
	ProbeOptions
	Send   string `json:"send,omitempty" doc:"payload to write once connected"`
	Expect string `json:"expect,omitempty" doc:"string the server's reply must contain"`
}

func tcpKind() Kind {
	return probeSpec(Info{Name: "tcp", Summary: "a TCP connect, optionally a banner exchange", Target: "host:port such as db.example.com:5432",
		Vars: append([]string{"tcp.received", "tcp.family"}, timingVars...)},
		func(t string, _ *TCPOptions) error { return checkHostPort(t) }, func(o *TCPOptions) *ProbeOptions { return &o.ProbeOptions },
		func(ctx context.Context, _ *Env, target string, opts probe.Options, o *TCPOptions) (*probe.Result, error) {
			return probe.TCP(ctx, probe.TCPRequest{Address: target, Options: opts, Send: o.Send, Expect: o.Expect})
		}, probeValues)
}

// CertOptions are the options of a cert (TLS) measurement.
type CertOptions struct {
	ProbeOptions
	TrustOptions
	SNI      string   `json:"sni,omitempty" doc:"server name to send and to check the certificate against; default the target's host"`
	ALPN     []string `json:"alpn,omitempty" doc:"ALPN protocols to offer, e.g. h2, http/1.1" max:"8"`
	WarnDays *int     `json:"warn_days,omitempty" doc:"report expires_soon when a certificate expires within this many days; 0 turns it off" default:"14" min:"0" max:"3650"`
}

func certKind() Kind {
	return probeSpec(Info{Name: "cert", Aliases: []string{"tls"}, Summary: "a TLS handshake with the certificate chain examined",
		Target: "host or host:port (port 443 by default)",
		Vars: append([]string{"cert.expires_in", "cert.days_left", "cert.chain_expires_in", "cert.verified_chain_expires_in", "cert.findings",
			"cert.trusted", "cert.hostname_ok", "cert.subject", "cert.issuer", "cert.sha256", "tls.version", "tls.cipher", "tls.alpn",
			"tls.ocsp_stapled"}, timingVars...)},
		func(t string, _ *CertOptions) error { return checkHostOptionalPort(t) }, func(o *CertOptions) *ProbeOptions { return &o.ProbeOptions },
		func(ctx context.Context, env *Env, target string, opts probe.Options, o *CertOptions) (*probe.Result, error) {
			pool, err := env.rootCAs("options.ca", o.CA)
			if err != nil {
				return nil, err
			}
			req := probe.TLSRequest{Address: target, Options: opts, ServerName: o.SNI, RootCAs: pool, ALPN: o.ALPN}
			req.WarnDays, req.NoExpiryWarning = warnDays(o.WarnDays)
			return probe.TLS(ctx, req)
		}, probeValues)
}

// HTTPOptions are the options of an http measurement.
type HTTPOptions struct {
	ProbeOptions
	TrustOptions
	Method          string            `json:"method,omitempty" doc:"request method" default:"GET" enum:"get,head,post,put,patch,delete,options"`
	Headers         map[string]string `json:"headers,omitempty" doc:"request headers" max:"64"`
	Body            string            `json:"body,omitempty" doc:"request body"`
	Host            string            `json:"host,omitempty" doc:"Host header and TLS server name"`
	FollowRedirects bool              `json:"follow_redirects,omitempty" doc:"follow up to 10 redirects"`
	ExpectStatus    []int             `json:"expect_status,omitempty" doc:"acceptable status codes; default any status (see fail)" max:"32"`
	Fail            bool              `json:"fail,omitempty" doc:"a status of 400 or more fails the probe (curl -f)"`
}

func httpKind() Kind {
	return probeSpec(Info{Name: "http", Summary: "one HTTP request with every phase timed", Target: "an http:// or https:// URL",
		Vars:        append([]string{"status", "body", "body_size", "http.proto", "cert.expires_in", "tls.version"}, timingVars...),
		VarPrefixes: []string{"header.", "body.json."}},
		func(t string, _ *HTTPOptions) error { return checkURL(t, "http", "https") }, func(o *HTTPOptions) *ProbeOptions { return &o.ProbeOptions },
		func(ctx context.Context, env *Env, target string, opts probe.Options, o *HTTPOptions) (*probe.Result, error) {
			pool, err := env.rootCAs("options.ca", o.CA)
			if err != nil {
				return nil, err
			}
			return probe.HTTP(ctx, probe.HTTPRequest{URL: target, Options: opts, Method: strings.ToUpper(o.Method), Header: headerOf(o.Headers),
				Body: []byte(o.Body), Host: o.Host, FollowRedirects: o.FollowRedirects, RootCAs: pool, Insecure: o.Insecure,
				ExpectStatus: o.ExpectStatus, FailOnError: o.Fail})
		}, probeValues)
}

// WSOptions are the options of a ws (WebSocket) measurement.
type WSOptions struct {
	ProbeOptions
	TrustOptions
	Headers      map[string]string `json:"headers,omitempty" doc:"upgrade request headers" max:"64"`
	Host         string            `json:"host,omitempty" doc:"Host header and TLS server name"`
	Subprotocols []string          `json:"subprotocols,omitempty" doc:"subprotocols to offer" max:"16"`
	Send         string            `json:"send,omitempty" doc:"text message to send once connected"`
	Expect       string            `json:"expect,omitempty" doc:"string the first message received must contain"`
	Linger       Duration          `json:"linger,omitempty" doc:"without send/expect: how long to wait after the upgrade for the server to close (catches a server that accepts and closes with 1011)" default:"1s" max:"30s"`
	NoLinger     bool              `json:"no_linger,omitempty" doc:"close right after the upgrade (do not wait for the server to close)"`
	OKCloseCodes []int             `json:"ok_close_codes,omitempty" doc:"close codes the server may send without failing the probe; default 1000 and 1001" max:"16"`
}

func wsKind() Kind {
	return probeSpec(Info{Name: "ws", Aliases: []string{"websocket"}, Summary: "a WebSocket upgrade, optionally a message exchange",
		Target: "a ws://, wss://, http:// or https:// URL",
		Vars: append([]string{"ws.status", "ws.close_code", "ws.close_reason", "ws.closed_by", "ws.closed_after", "ws.linger",
			"ws.received", "ws.subprotocol"}, timingVars...)},
		checkWS, func(o *WSOptions) *ProbeOptions { return &o.ProbeOptions },
		func(ctx context.Context, env *Env, target string, opts probe.Options, o *WSOptions) (*probe.Result, error) {
			pool, err := env.rootCAs("options.ca", o.CA)
			if err != nil {
				return nil, err
			}
			return probe.WS(ctx, probe.WSRequest{URL: target, Options: opts, Header: headerOf(o.Headers), Host: o.Host,
				Subprotocols: o.Subprotocols, Send: o.Send, Expect: o.Expect, Linger: o.Linger.D(), NoLinger: o.NoLinger,
				OKCloseCodes: o.OKCloseCodes, RootCAs: pool, Insecure: o.Insecure})
		}, probeValues)
}

func checkWS(target string, o *WSOptions) error {
	for i, c := range o.OKCloseCodes {
		if c < 1000 || c > 4999 {
			return fieldErr(fmt.Sprintf("options.ok_close_codes[%d]", i), "%d; want a WebSocket close code from 1000 to 4999", c)
		}
	}
	return checkURL(target, "ws", "wss", "http", "https")
}

func headerOf(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

func checkHostPort(target string) error {
	h, p, err := net.SplitHostPort(target)
	if err != nil || h == "" || p == "" {
		return fieldErr("target", "want host:port such as db.example.com:5432 or [2001:db8::1]:443")
	}
	if err := checkPort(p); err != nil {
		return err
	}
	_, _, err = hostAddr("target", h)
	return err
}

func checkPort(p string) error {
	var n int
	if _, err := fmt.Sscanf(p, "%d", &n); err != nil || n < 1 || n > 65535 || fmt.Sprint(n) != p {
		return fieldErr("target", "port %q; want 1 to 65535", p)
	}
	return nil
}

func checkHostOptionalPort(target string) error {
	if strings.Contains(target, "/") {
		return fieldErr("target", "want host or host:port, not a URL")
	}
	if h, p, err := net.SplitHostPort(target); err == nil {
		if err := checkPort(p); err != nil {
			return err
		}
		target = h
	}
	_, _, err := hostAddr("target", target)
	return err
}

func checkURL(target string, schemes ...string) error {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || !strings.Contains(target, "://") {
		return fieldErr("target", "want a URL such as %s://host/path", schemes[0])
	}
	ok := false
	for _, s := range schemes {
		ok = ok || u.Scheme == s
	}
	if !ok {
		return fieldErr("target", "scheme %q; want %s", u.Scheme, orList(strings.Join(schemes, ",")))
	}
	if p := u.Port(); p != "" {
		if err := checkPort(p); err != nil {
			return err
		}
	}
	_, _, err = hostAddr("target", u.Hostname())
	return err
}

// probeValues exposes a probe result to conditions.
func probeValues(p *probe.Result) *Values {
	m := map[string]any{
		"ok": p.OK, "error": p.Error, "phase": string(p.Phase), "address": p.Address,
		"duration":    p.Timings.Total,
		"timings.dns": p.Timings.DNS, "timings.connect": p.Timings.Connect, "timings.tls": p.Timings.TLS,
		"timings.first_byte": p.Timings.FirstByte, "timings.total": p.Timings.Total,
	}
	v := &Values{M: m}
	if t := p.TCP; t != nil {
		m["tcp.received"], m["tcp.family"] = t.Received, t.Family
	}
	if t := p.TLS; t != nil {
		tlsValues(m, t)
	}
	if h := p.HTTP; h != nil && h.Status != 0 {
		m["status"], m["body_size"], m["body"], m["http.proto"] = float64(h.Status), float64(h.BodySize), h.Body, h.Proto
		m["tls.version"] = h.TLSVersion
		if !h.CertExpiry.IsZero() {
			m["cert.expires_in"] = time.Until(h.CertExpiry)
		}
		v.Header, v.Body = h.Header, h.Body
	}
	if w := p.WS; w != nil {
		m["ws.status"], m["ws.close_code"], m["ws.close_reason"] = float64(w.Status), float64(w.CloseCode), w.CloseReason
		m["ws.received"], m["ws.subprotocol"], m["ws.closed_by"] = w.Received, w.Subprotocol, w.ClosedBy
		m["ws.closed_after"], m["ws.linger"] = w.ClosedAfter, w.Lingered
	}
	return v
}

func tlsValues(m map[string]any, t *probe.TLSInfo) {
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

// warnDays maps the warn_days option to the engine: unset is the default
// (14 days), 0 turns the expiry warning off.
func warnDays(o *int) (int, bool) {
	if o == nil {
		return 0, false
	}
	return *o, *o == 0
}
