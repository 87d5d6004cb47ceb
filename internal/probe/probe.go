// Package probe runs health probes — TCP connect, TLS handshake, HTTP
// request, WebSocket handshake — and reports one result shape with phase
// timings. Every probe honours its context, its timeout and the Dialer it
// is given (a netpolicy.Dialer refuses forbidden targets after DNS
// resolution).
//
// A probe returns an error only for a bad request (ErrBadRequest); a target
// that fails is a measurement, reported in Result with OK false, the phase
// that failed and the error.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

// ErrBadRequest is wrapped by every error about the request itself.
var ErrBadRequest = errors.New("bad probe request")

// DefaultTimeout bounds a probe whose Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Kind names a probe.
type Kind string

// The probe kinds.
const (
	KindTCP  Kind = "tcp"
	KindTLS  Kind = "tls"
	KindHTTP Kind = "http"
	KindWS   Kind = "ws"
)

// Phase names the step of a probe that failed.
type Phase string

// The phases, in the order a probe goes through them.
const (
	PhaseDNS     Phase = "dns"     // resolving the host name
	PhasePolicy  Phase = "policy"  // the address is denied by the network policy
	PhaseConnect Phase = "connect" // TCP connect
	PhaseSend    Phase = "send"    // writing the TCP payload
	PhaseRead    Phase = "read"    // reading the TCP banner or reply
	PhaseTLS     Phase = "tls"     // handshake, or a finding about the certificate
	PhaseHTTP    Phase = "http"    // request/response, or an unexpected status
	PhaseUpgrade Phase = "upgrade" // WebSocket upgrade refused
	PhaseMessage Phase = "message" // WebSocket message exchange or close
)

// Dialer opens connections; *net.Dialer and *netpolicy.Dialer are Dialers.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Options are shared by every probe request. The zero value uses a 10 s
// timeout, a plain net.Dialer and the system resolver.
type Options struct {
	// Timeout bounds the whole probe; 0 means DefaultTimeout.
	Timeout time.Duration
	// Dialer opens connections; nil means a net.Dialer (no policy).
	Dialer Dialer
	// ConnectTo, when set, is the address (IP or host, with an optional
	// port) to connect to instead of the target's host; the host name is
	// still used for SNI, certificate checks and the Host header.
	ConnectTo string
	// Network is "tcp", "tcp4" or "tcp6"; "" means "tcp".
	Network string
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) dialer() Dialer {
	if o.Dialer != nil {
		return o.Dialer
	}
	return &net.Dialer{}
}

func (o Options) network() string {
	if o.Network != "" {
		return o.Network
	}
	return "tcp"
}

// dialAddr returns where to connect for host:port, honouring ConnectTo.
func (o Options) dialAddr(hostport string) string {
	if o.ConnectTo == "" {
		return hostport
	}
	_, port, _ := net.SplitHostPort(hostport)
	if h, p, err := net.SplitHostPort(o.ConnectTo); err == nil {
		if p == "" {
			p = port
		}
		return net.JoinHostPort(h, p)
	}
	return net.JoinHostPort(strings.Trim(o.ConnectTo, "[]"), port)
}

// Result is what every probe reports.
type Result struct {
	Kind    Kind   `json:"kind"`
	Target  string `json:"target"`            // as requested (host:port or URL)
	Address string `json:"address,omitempty"` // remote IP:port connected to
	// Resolved lists the addresses the host name resolved to (empty for an
	// address, or with ConnectTo).
	Resolved []string  `json:"resolved,omitempty"`
	OK       bool      `json:"ok"`
	Phase    Phase     `json:"failed_phase,omitempty"`
	Error    string    `json:"error,omitempty"`
	Start    time.Time `json:"start"`
	Timings  Timings   `json:"timings"`

	TCP  *TCPInfo  `json:"tcp,omitempty"`
	TLS  *TLSInfo  `json:"tls,omitempty"`
	HTTP *HTTPInfo `json:"http,omitempty"`
	WS   *WSInfo   `json:"ws,omitempty"`

	// Err is the failure as an error value, for errors.Is (for example
	// netpolicy.ErrDenied); it is not serialised.
	Err error `json:"-"`

	limit time.Duration // the probe's timeout, to word timeouts
}

// fail records a failure in phase. A timeout reads "timed out after 5s",
// not Go's "context deadline exceeded" or "i/o timeout".
func (r *Result) fail(phase Phase, err error) {
	r.OK = false
	r.Phase = phase
	r.Err = err
	r.Error = err.Error()
	if r.limit > 0 && IsTimeout(err) {
		r.Error = TimeoutText(r.Error, r.limit)
	}
}

// IsTimeout reports whether err is a deadline or a network timeout.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// TimeoutText rewrites Go's timeout wording in msg as "timed out after d".
func TimeoutText(msg string, d time.Duration) string {
	after := "timed out after " + d.String()
	for _, s := range []struct{ old, new string }{
		{"context deadline exceeded (Client.Timeout exceeded while awaiting headers)", after},
		{"context deadline exceeded", after},
		{"i/o timeout", after},
		{"net/http: TLS handshake timeout", "TLS handshake " + after}, // the transport's own bound, set to the probe's timeout
	} {
		if strings.Contains(msg, s.old) {
			return strings.Replace(msg, s.old, s.new, 1)
		}
	}
	return msg
}

// Timings are the durations of each phase; a phase that did not happen is
// zero. JSON renders them as milliseconds.
type Timings struct {
	DNS       time.Duration // name resolution
	Connect   time.Duration // TCP connect
	TLS       time.Duration // TLS handshake
	FirstByte time.Duration // from start to the first response byte (banner, HTTP status line, WebSocket upgrade)
	Total     time.Duration // the whole probe
}

// MarshalJSON renders the timings in milliseconds.
func (t Timings) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]float64{
		"dns_ms": ms(t.DNS), "connect_ms": ms(t.Connect), "tls_ms": ms(t.TLS),
		"first_byte_ms": ms(t.FirstByte), "total_ms": ms(t.Total),
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// tracer records DNS, connect and TLS phase durations from the hooks that
// the net and net/http packages call on a context carrying a ClientTrace.
type tracer struct {
	mu                          sync.Mutex
	dnsStart, connStart, tlsSta time.Time
	t                           Timings
	addrs                       []string
	// how far the connection got, to name the phase a timeout hit
	connected, tlsDone bool
}

// stalledPhase is the phase a connection was in when it stopped: connect,
// then the TLS handshake when overTLS, then HTTP.
func (tr *tracer) stalledPhase(overTLS bool) Phase {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	switch {
	case !tr.connected:
		return PhaseConnect
	case overTLS && !tr.tlsDone:
		return PhaseTLS
	}
	return PhaseHTTP
}

func (tr *tracer) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { tr.mark(&tr.dnsStart) },
		DNSDone: func(info httptrace.DNSDoneInfo) {
			tr.mu.Lock()
			defer tr.mu.Unlock()
			tr.t.DNS = time.Since(tr.dnsStart)
			for _, a := range info.Addrs {
				tr.addrs = append(tr.addrs, a.String())
			}
		},
		ConnectStart: func(string, string) { tr.mark(&tr.connStart) },
		ConnectDone: func(_, _ string, err error) {
			tr.mu.Lock()
			defer tr.mu.Unlock()
			if err == nil {
				tr.t.Connect = time.Since(tr.connStart)
				tr.connected = true
			}
		},
		TLSHandshakeStart: func() { tr.mark(&tr.tlsSta) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			tr.mu.Lock()
			defer tr.mu.Unlock()
			tr.t.TLS = time.Since(tr.tlsSta)
			tr.tlsDone = err == nil
		},
	}
}

func (tr *tracer) mark(at *time.Time) {
	tr.mu.Lock()
	*at = time.Now()
	tr.mu.Unlock()
}

// finish copies the timings and resolved addresses into res.
func (tr *tracer) finish(res *Result) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	res.Timings = tr.t
	res.Timings.Total = time.Since(res.Start)
	res.Resolved = append([]string(nil), tr.addrs...)
}

// withTrace returns ctx carrying tr's hooks; net.Dialer (and so
// netpolicy.Dialer) reports DNS and connect through them.
func withTrace(ctx context.Context, tr *tracer) context.Context {
	return httptrace.WithClientTrace(ctx, tr.trace())
}

// dialPhase classifies a dial error.
func dialPhase(err error) Phase {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, netpolicy.ErrDenied):
		return PhasePolicy
	case errors.As(err, &dnsErr):
		return PhaseDNS
	}
	return PhaseConnect
}

// LoadCAFile reads PEM certificates from path into a new pool, for
// verification against a given CA instead of the system roots.
func LoadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%w: %s holds no PEM certificate", ErrBadRequest, path)
	}
	return pool, nil
}

// splitHostPort splits target into host and port, adding defPort when the
// target has none.
func splitHostPort(target, defPort string) (host, port string, err error) {
	if target == "" {
		return "", "", fmt.Errorf("%w: empty target; want host:port", ErrBadRequest)
	}
	if h, p, err := net.SplitHostPort(target); err == nil {
		if h == "" || p == "" {
			return "", "", fmt.Errorf("%w: %q lacks a host or port; want host:port", ErrBadRequest, target)
		}
		return h, p, nil
	}
	if defPort == "" {
		return "", "", fmt.Errorf("%w: %q has no port; want host:port", ErrBadRequest, target)
	}
	if strings.Count(target, ":") > 1 && !strings.HasPrefix(target, "[") {
		return target, defPort, nil // a bare IPv6 address
	}
	if strings.ContainsAny(target, ":/ ") {
		return "", "", fmt.Errorf("%w: %q is not host[:port]", ErrBadRequest, target)
	}
	return strings.Trim(target, "[]"), defPort, nil
}
