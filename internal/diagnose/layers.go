package diagnose

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/probe"
)

// probeAddress runs TCP → TLS → HTTP → WebSocket against one address and
// stops at the first failure, marking the layers after it skipped.
func probeAddress(ctx context.Context, req Request, t *target, addr string) []Layer {
	hostport := net.JoinHostPort(t.host, t.port)
	opts := probe.Options{Timeout: req.timeout(), Dialer: req.Dialer, ConnectTo: addr}
	names := []string{"tcp"}
	if t.tls {
		names = append(names, "tls")
	}
	if t.ws {
		names = append(names, "ws")
	} else {
		names = append(names, "http")
	}
	var out []Layer
	for i, name := range names {
		var l Layer
		switch name {
		case "tcp":
			l = tcpLayer(ctx, hostport, opts)
		case "tls":
			l = tlsLayer(ctx, req, hostport, t.host, opts)
		case "http":
			l = httpLayer(ctx, req, t, opts)
		case "ws":
			l = wsLayer(ctx, req, t, opts)
		}
		l.Name, l.Address = name, net.JoinHostPort(addr, t.port)
		if l.Probe != nil {
			l.Duration = l.Probe.Timings.Total
		}
		out = append(out, l)
		if l.Status == StatusFail {
			for _, rest := range names[i+1:] {
				out = append(out, Layer{Name: rest, Address: l.Address, Status: StatusSkip, Evidence: "not tried: " + strings.ToUpper(name) + " failed"})
			}
			break
		}
	}
	return out
}

func tcpLayer(ctx context.Context, hostport string, opts probe.Options) Layer {
	r, _ := probe.TCP(ctx, probe.TCPRequest{Address: hostport, Options: opts})
	l := Layer{Probe: r}
	if r.OK {
		l.Status, l.Evidence = StatusOK, fmt.Sprintf("connected in %s", ms(r.Timings.Connect))
		return l
	}
	l.Status, l.Evidence = StatusFail, r.Error
	switch {
	case errors.Is(r.Err, netpolicy.ErrDenied):
		l.cause, l.next = "the address is in a range the network policy forbids", "reach the service through an allowed address, or widen the policy"
	case strings.Contains(r.Error, "refused"):
		l.Evidence = fmt.Sprintf("connection to %s refused", opts.ConnectTo)
		l.cause = "nothing listens on that port at that address: the service is down or the load balancer has no listener"
		l.next = "check that the service runs and listens on the port; check the load balancer's listener and target health"
	case strings.Contains(r.Error, "timeout") || strings.Contains(r.Error, "deadline"):
		l.cause = "a firewall or security group drops the traffic, or the host is down or unroutable"
		l.next = "check firewall rules and security groups for the port; dnsscience traceroute to see where packets stop"
	default:
		l.cause, l.next = "the connection could not be opened", "check routing and the host's network"
	}
	return l
}

func tlsLayer(ctx context.Context, req Request, hostport, host string, opts probe.Options) Layer {
	r, _ := probe.TLS(ctx, probe.TLSRequest{Address: hostport, Options: opts, ServerName: host, RootCAs: req.RootCAs, WarnDays: req.WarnDays, Now: req.Now})
	l := Layer{Probe: r}
	if r.TLS == nil {
		l.Status, l.Evidence = StatusFail, r.Error
		l.cause = "the port does not speak TLS, or client and server share no protocol version or cipher"
		l.next = "check that the port serves TLS (not plain HTTP) and the server's TLS configuration"
		return l
	}
	info := r.TLS
	if r.OK {
		l.Status = StatusOK
		l.Evidence = fmt.Sprintf("%s, certificate for %s valid until %s (%d days), trusted", info.Version, certNames(r), info.LeafExpiry.UTC().Format("2006-01-02"), info.DaysLeft)
		return l
	}
	f := info.Findings[0]
	if onlyExpiresSoon(info.Findings) {
		l.Status, l.Evidence = StatusWarn, f.Detail
		return l
	}
	for _, x := range info.Findings {
		if x.Name != probe.FindingExpiresSoon {
			f = x
			break
		}
	}
	l.Status, l.Evidence = StatusFail, f.Detail
	l.cause, l.next = tlsAdvice(f.Name)
	return l
}

func onlyExpiresSoon(fs []probe.Finding) bool {
	for _, f := range fs {
		if f.Name != probe.FindingExpiresSoon {
			return false
		}
	}
	return true
}

func certNames(r *probe.Result) string {
	if len(r.TLS.Chain) == 0 {
		return "?"
	}
	c := r.TLS.Chain[0]
	return strings.Join(append(append([]string{}, c.DNSNames...), c.IPAddresses...), ", ")
}

// tlsAdvice gives the likely cause and next step for a finding.
func tlsAdvice(finding string) (string, string) {
	switch finding {
	case probe.FindingHostnameMismatch:
		return "the server (or the load balancer's SNI routing) presents a certificate for another name",
			"add the name to the certificate's SANs, or fix which certificate the listener serves for this SNI"
	case probe.FindingExpired:
		return "the certificate was not renewed in time", "renew and deploy it; check the renewal job (ACME client, cert-manager)"
	case probe.FindingNotYetValid:
		return "the certificate was deployed before its start date, or the client's or server's clock is wrong", "check clocks (NTP) and the certificate's not-before date"
	case probe.FindingSelfSigned:
		return "the server presents a self-signed certificate (a default or test certificate)", "install a certificate from a trusted CA, or pass its CA with --ca"
	case probe.FindingIncompleteChain:
		return "the server does not send the intermediate certificate, or its issuer is not trusted here", "serve the full chain (leaf + intermediates); or pass the issuing CA with --ca"
	case probe.FindingUnknownAuthority:
		return "the chain ends at a CA this client does not trust", "pass the CA with --ca, or use a certificate from a public CA"
	case probe.FindingOldProtocol:
		return "the server only speaks TLS 1.0/1.1, which current clients refuse", "enable TLS 1.2 and 1.3 on the server or load balancer"
	case probe.FindingWeakKey, probe.FindingSHA1Signature:
		return "the certificate uses weak cryptography that clients refuse", "reissue with an RSA-2048+/ECDSA P-256 key and a SHA-256 signature"
	}
	return "the certificate chain has a problem", "dnsscience cert for the full chain"
}

func httpLayer(ctx context.Context, req Request, t *target, opts probe.Options) Layer {
	r, _ := probe.HTTP(ctx, probe.HTTPRequest{URL: t.u.String(), Options: opts, RootCAs: req.RootCAs, Insecure: true, BodyLimit: 512})
	l := Layer{Probe: r}
	if !r.OK {
		l.Status, l.Evidence = StatusFail, r.Error
		l.cause, l.next = "the server accepted the connection but the HTTP exchange failed (timeout, reset, protocol error)", "check the server's and proxy's logs and timeouts"
		return l
	}
	h := r.HTTP
	l.Evidence = fmt.Sprintf("%s %d %s in %s", h.Proto, h.Status, h.StatusText, ms(r.Timings.Total))
	switch {
	case h.Status >= 500:
		l.Status = StatusFail
		l.Evidence = fmt.Sprintf("%d %s from %s", h.Status, h.StatusText, t.u.String())
		if b := strings.TrimSpace(h.Body); b != "" {
			l.Evidence += fmt.Sprintf(" (body: %q)", trunc(b, 80))
		}
		l.cause = "the server or the backend behind the load balancer failed (5xx): application error, backend down, or the proxy cannot reach it"
		l.next = "check the application logs and the load balancer's backend health checks"
	case h.Status >= 400:
		l.Status = StatusFail
		l.cause = "the request was rejected: wrong path or Host, missing authentication, or access denied"
		l.next = "check the path, the Host header and authentication; compare with a known-good request"
	case h.Status >= 300:
		l.Status = StatusOK
		l.Evidence += " → " + h.Header.Get("Location")
	default:
		l.Status = StatusOK
	}
	return l
}

func wsLayer(ctx context.Context, req Request, t *target, opts probe.Options) Layer {
	linger := req.Linger
	if linger == 0 {
		linger = 500 * time.Millisecond
	}
	r, _ := probe.WS(ctx, probe.WSRequest{URL: t.u.String(), Options: opts, RootCAs: req.RootCAs, Insecure: true, Linger: linger})
	l := Layer{Probe: r}
	w := r.WS
	switch {
	case r.OK:
		l.Status, l.Evidence = StatusOK, fmt.Sprintf("upgrade accepted (HTTP %d), connection stayed open", w.Status)
	case r.Phase == probe.PhaseUpgrade:
		l.Status, l.Evidence = StatusFail, fmt.Sprintf("upgrade refused with HTTP %d", w.Status)
		l.cause = "the endpoint does not accept WebSocket upgrades: wrong path, a proxy that drops the Upgrade/Connection headers, or an origin/authentication check"
		l.next = "check that every proxy forwards Upgrade and Connection headers, the path, and origin/auth requirements"
	case w != nil && w.CloseCode != 0:
		l.Status = StatusFail
		l.Evidence = fmt.Sprintf("upgrade accepted, server closed with %d", w.CloseCode)
		if w.CloseReason != "" {
			l.Evidence += fmt.Sprintf(" (%q)", w.CloseReason)
		}
		l.cause = "the application accepted the connection and then failed (1011 is an internal error)"
		l.next = "check the application's logs for its WebSocket handler and the services it depends on"
	default:
		l.Status, l.Evidence = StatusFail, r.Error
		l.cause, l.next = "the WebSocket exchange failed", "check proxies' idle timeouts and the server's logs"
	}
	return l
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
