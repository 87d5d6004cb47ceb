// Package diagnose walks the layers of a URL — DNS through several
// resolvers (and, when DNS fails, a delegation trace from the root), then
// for each address TCP → TLS → HTTP → WebSocket — and names the first layer
// that fails, with its evidence, the likely cause and what to check next.
package diagnose

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/probe"
)

// ErrBadRequest is wrapped by errors about the request itself.
var ErrBadRequest = errors.New("bad diagnose request")

// Request describes what to diagnose. The zero value of every field but URL
// is a sensible default.
type Request struct {
	// URL is http://, https://, ws:// or wss://; a bare host[:port] means
	// https://host[:port]/.
	URL string
	// Resolvers are asked besides the system's.
	Resolvers []dnsq.Server
	// System are the system's resolvers; nil reads ResolvConf.
	System []dnsq.Server
	// ResolvConf is the resolver configuration; "" means /etc/resolv.conf.
	ResolvConf string
	// NoSystem skips the system's resolvers.
	NoSystem bool
	// ExpectIP lists addresses the name must resolve to.
	ExpectIP []string
	// ConnectTo lists addresses (a load balancer's, say) to probe instead
	// of the addresses DNS gave; DNS is still checked.
	ConnectTo []string
	// Timeout bounds each layer; 0 means 5 s. The DNS layer (resolvers and
	// the delegation trace together) gets one Timeout; the WebSocket layer
	// gets Timeout plus the linger.
	Timeout time.Duration
	// Dialer opens every connection (DNS included); nil means a net.Dialer.
	Dialer probe.Dialer
	// RootCAs verifies TLS; nil means the system roots.
	RootCAs *x509.CertPool
	// Insecure skips certificate verification in the HTTP and WebSocket
	// layers (the TLS layer still reports findings).
	Insecure bool
	// Roots are the root servers the delegation trace starts from (your
	// own roots for a private namespace, say); nil means the shipped public
	// root hints. RootsPort is their port; 0 means 53.
	Roots     []dnsq.NSHost
	RootsPort int
	// PrivateZones are zones that exist only inside the network; a name at
	// or under one of them (or under a special-use or well-known private
	// TLD, or with a single label: see Internal) is never sent to the
	// public roots: without Roots its delegation is not traced.
	PrivateZones []string
	// Tracer runs the delegation trace when DNS fails; nil means a Tracer
	// from Roots (or the public root hints) that asks every server
	// (AllServers), so lame servers are named. Its Client, when nil, is
	// bounded by Timeout. NoTrace skips the trace.
	Tracer  *dnsq.Tracer
	NoTrace bool
	// MaxAddresses bounds the addresses probed; 0 means 4.
	MaxAddresses int
	// Linger is how long the WebSocket layer waits for the server to close
	// after the upgrade; 0 means probe.DefaultLinger (1 s). NoLinger does
	// not wait.
	Linger   time.Duration
	NoLinger bool
	// WarnDays is passed to the TLS layer; 0 means 14. NoExpiryWarning
	// turns the expires_soon warning off.
	WarnDays        int
	NoExpiryWarning bool
	// Strict fails the diagnosis on warnings too (a certificate expiring
	// soon, a WebSocket the server closes normally right away); the first
	// warning becomes the verdict when no layer failed.
	Strict bool
	// OnLayer, when set, is called with each layer as it completes (DNS,
	// then each address's TCP, TLS, HTTP or WebSocket layers), so a caller
	// can stream them.
	OnLayer func(Layer)
	// Now is the clock for certificate checks; nil means time.Now.
	Now func() time.Time
}

// Status of a layer.
type Status string

// Layer statuses.
const (
	StatusOK   Status = "ok"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
)

// Layer is one line of the diagnosis. A warn or fail layer has a cause
// and a next step.
type Layer struct {
	Name     string        `json:"layer"` // dns, tcp, tls, http, ws
	Address  string        `json:"address,omitempty"`
	Status   Status        `json:"status"`
	Evidence string        `json:"evidence"`
	Duration time.Duration `json:"-"`
	// DurationMS is Duration in milliseconds.
	DurationMS float64 `json:"duration_ms"`
	// Probe is the engine result behind a tcp, tls, http or ws layer.
	Probe *probe.Result `json:"probe,omitempty"`
	// Cause and Next are the likely cause and what to check, for a warn or
	// fail layer.
	Cause string `json:"likely_cause,omitempty"`
	Next  string `json:"next_step,omitempty"`
}

// Verdict names the first failing layer (or, with Strict, the first
// warning when nothing failed).
type Verdict struct {
	Layer   string `json:"layer"`
	Status  Status `json:"status"` // fail, or warn under Strict
	Address string `json:"address,omitempty"`
	Problem string `json:"problem"`
	Cause   string `json:"likely_cause"`
	Next    string `json:"next_step"`
}

// Result is a whole diagnosis.
type Result struct {
	URL        string        `json:"url"`
	Host       string        `json:"host"`
	Port       string        `json:"port"`
	DNS        *DNSReport    `json:"dns,omitempty"`
	Layers     []Layer       `json:"layers"`
	Addresses  []string      `json:"addresses"`
	OK         bool          `json:"ok"`
	Verdict    *Verdict      `json:"verdict,omitempty"`
	Start      time.Time     `json:"start"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"duration_ms"`
}

// target is the parsed URL.
type target struct {
	u          *url.URL
	host, port string
	tls, ws    bool
}

func parseTarget(raw string) (*target, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw + "/"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %q is not a URL; want http(s)://host/path, ws(s)://host/path or host[:port]", ErrBadRequest, raw)
	}
	t := &target{u: u, host: u.Hostname(), port: u.Port()}
	switch u.Scheme {
	case "http":
	case "https":
		t.tls = true
	case "ws":
		t.ws = true
	case "wss":
		t.tls, t.ws = true, true
	default:
		return nil, fmt.Errorf("%w: unsupported scheme %q; want http, https, ws or wss", ErrBadRequest, u.Scheme)
	}
	if t.port == "" {
		t.port = "80"
		if t.tls {
			t.port = "443"
		}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return t, nil
}

// Run diagnoses req.URL. It returns an error only for a bad request.
func Run(ctx context.Context, req Request) (*Result, error) {
	t, err := parseTarget(req.URL)
	if err != nil {
		return nil, err
	}
	for _, ip := range req.ExpectIP {
		if net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("%w: expected address %q is not an IP address", ErrBadRequest, ip)
		}
	}
	for _, ip := range req.ConnectTo {
		if net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("%w: connect-to address %q is not an IP address", ErrBadRequest, ip)
		}
	}
	res := &Result{URL: t.u.String(), Host: t.host, Port: t.port, Start: time.Now(), Layers: []Layer{}, Addresses: []string{}}
	defer func() {
		res.Duration = time.Since(res.Start)
		res.DurationMS = toMS(res.Duration)
	}()
	add := func(ls ...Layer) {
		for _, l := range ls {
			l.DurationMS = toMS(l.Duration)
			res.Layers = append(res.Layers, l)
			if req.OnLayer != nil {
				req.OnLayer(l)
			}
		}
	}
	addrs, dnsLayer := resolveLayer(ctx, req, t, res)
	add(dnsLayer)
	if len(req.ConnectTo) > 0 {
		addrs = req.ConnectTo
	}
	if len(addrs) > maxAddrs(req.MaxAddresses) {
		addrs = addrs[:maxAddrs(req.MaxAddresses)]
	}
	res.Addresses = addrs
	for _, a := range addrs {
		add(probeAddress(ctx, req, t, a)...)
	}
	res.Verdict = verdict(res, req.Strict)
	res.OK = res.Verdict == nil
	return res, nil
}

func maxAddrs(n int) int {
	if n > 0 {
		return n
	}
	return 4
}

func (r Request) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return 5 * time.Second
}

// verdict picks the first failing layer: DNS, then the first address's
// first failure; under strict, the first warning when nothing failed.
func verdict(res *Result, strict bool) *Verdict {
	pick := func(st Status) *Verdict {
		for _, l := range res.Layers {
			if l.Status == st {
				return &Verdict{
					Layer: l.Name, Status: st, Address: l.Address,
					Problem: LayerName(l.Name) + ": " + l.Evidence,
					Cause:   l.Cause, Next: l.Next,
				}
			}
		}
		return nil
	}
	if v := pick(StatusFail); v != nil || !strict {
		return v
	}
	return pick(StatusWarn)
}

// LayerName is how a layer is shown: DNS, TCP, TLS, HTTP, WebSocket.
func LayerName(name string) string {
	if name == "ws" {
		return "WebSocket"
	}
	return strings.ToUpper(name)
}

func toMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
