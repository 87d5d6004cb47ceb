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
		l.Cause, l.Next = "the address is in a range the network policy forbids", "reach the service through an allowed address, or widen the policy"
	case strings.Contains(r.Error, "refused"):
		l.Evidence = fmt.Sprintf("connection to %s refused", opts.ConnectTo)
		l.Cause = "nothing listens on that port at that address: the service is down or the load balancer has no listener"
		l.Next = "check that the service runs and listens on the port; check the load balancer's listener and target health"
	case probe.IsTimeout(r.Err):
		l.Evidence = fmt.Sprintf("no answer from %s: timed out after %s", net.JoinHostPort(opts.ConnectTo, portOf(hostport)), opts.Timeout)
		l.Cause = "a firewall or security group drops the traffic, or the host is down or unroutable"
		l.Next = fmt.Sprintf("check firewall rules and security groups for port %s; dnsscience trace --proto tcp --port %s %s shows where the packets stop", portOf(hostport), portOf(hostport), opts.ConnectTo)
	default:
		l.Cause, l.Next = "the connection could not be opened", "check routing and the host's network"
	}
	return l
}

func tlsLayer(ctx context.Context, req Request, hostport, host string, opts probe.Options) Layer {
	r, _ := probe.TLS(ctx, probe.TLSRequest{Address: hostport, Options: opts, ServerName: host, RootCAs: req.RootCAs,
		WarnDays: req.WarnDays, NoExpiryWarning: req.NoExpiryWarning, Now: req.Now})
	l := Layer{Probe: r}
	if r.TLS == nil {
		l.Status, l.Evidence = StatusFail, r.Error
		l.Cause = "the port does not speak TLS, or client and server share no protocol version or cipher"
		l.Next = "check that the port serves TLS (not plain HTTP) and the server's TLS configuration"
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
		l.Cause = "the certificate is close to its expiry and has not been renewed yet"
		l.Next = "renew it now; check the renewal job (ACME client, cert-manager)"
		return l
	}
	for _, x := range info.Findings {
		if x.Name != probe.FindingExpiresSoon {
			f = x
			break
		}
	}
	l.Status, l.Evidence = StatusFail, f.Detail
	l.Cause, l.Next = tlsAdvice(f.Name, req.RootCAs != nil)
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

// tlsAdvice gives the likely cause and next step for a finding; caGiven
// says a CA was passed, so advice to pass one would repeat what was tried.
func tlsAdvice(finding string, caGiven bool) (string, string) {
	switch finding {
	case probe.FindingSelfSigned, probe.FindingIncompleteChain, probe.FindingUnknownAuthority:
		if caGiven {
			return "the chain does not lead to the CA that was given (--ca): the server presents a certificate from another CA, a self-signed one, or omits the intermediate",
				"compare the chain (dnsscience cert HOST --ca FILE) with the CA file: serve the full chain signed by that CA, or give the CA that issued it"
		}
	}
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
		l.Cause, l.Next = "the server accepted the connection but the HTTP exchange failed (timeout, reset, protocol error)", "check the server's and proxy's logs and timeouts"
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
		l.Cause = "the server or the backend behind the load balancer failed (5xx): application error, backend down, or the proxy cannot reach it"
		l.Next = "check the application logs and the load balancer's backend health checks"
	case h.Status >= 400:
		l.Status = StatusFail
		l.Cause = "the request was rejected: wrong path or Host, missing authentication, or access denied"
		l.Next = "check the path, the Host header and authentication; compare with a known-good request"
	case h.Status >= 300:
		l.Status = StatusOK
		l.Evidence += " → " + h.Header.Get("Location")
	default:
		l.Status = StatusOK
	}
	return l
}

func wsLayer(ctx context.Context, req Request, t *target, opts probe.Options) Layer {
	wreq := probe.WSRequest{URL: t.u.String(), Options: opts, RootCAs: req.RootCAs, Insecure: true, Linger: req.Linger, NoLinger: req.NoLinger}
	if !req.NoLinger {
		wreq.Linger = max(req.Linger, 0)
		if wreq.Linger == 0 {
			wreq.Linger = probe.DefaultLinger
		}
		wreq.Timeout += wreq.Linger // the linger comes on top of the layer's timeout
	}
	r, _ := probe.WS(ctx, wreq)
	l := Layer{Probe: r}
	w := r.WS
	switch {
	case r.OK && w.ClosedBy == probe.ClosedByServer:
		l.Status = StatusWarn
		l.Evidence = fmt.Sprintf("upgrade accepted (HTTP %d), then the server closed normally with %d%s %s later", w.Status, w.CloseCode, reasonText(w.CloseReason), probe.ShortDuration(w.ClosedAfter))
		l.Cause = "the server ends the session by itself: it may expect a first message (authentication, a subscription), or it is shutting down (1001)"
		l.Next = "dnsscience ws URL --send MESSAGE --expect REPLY to try an exchange; check the server's session handling"
	case r.OK && w.Lingered > 0:
		l.Status, l.Evidence = StatusOK, fmt.Sprintf("upgrade accepted (HTTP %d), still open after %s", w.Status, probe.ShortDuration(w.Lingered))
	case r.OK && w.Received != "":
		l.Status, l.Evidence = StatusOK, fmt.Sprintf("upgrade accepted (HTTP %d), the server sent a message first", w.Status)
	case r.OK:
		l.Status, l.Evidence = StatusOK, fmt.Sprintf("upgrade accepted (HTTP %d)", w.Status)
	case r.Phase == probe.PhaseUpgrade:
		l.Status, l.Evidence = StatusFail, fmt.Sprintf("upgrade refused with HTTP %d", w.Status)
		l.Cause = "the endpoint does not accept WebSocket upgrades: wrong path, a proxy that drops the Upgrade/Connection headers, or an origin/authentication check"
		l.Next = "check that every proxy forwards Upgrade and Connection headers, the path, and origin/auth requirements"
	case w != nil && w.CloseCode == probe.StatusNoCloseFrame:
		l.Status = StatusFail
		l.Evidence = fmt.Sprintf("upgrade accepted, then the connection was dropped without a close frame %s later", probe.ShortDuration(w.ClosedAfter))
		l.Cause = "the backend process crashed or was restarted, or a proxy between cuts WebSocket connections (idle or connection limits)"
		l.Next = "check the backend's logs and restarts, and the proxies' WebSocket timeouts"
	case w != nil && w.CloseCode != 0:
		l.Status = StatusFail
		l.Evidence = fmt.Sprintf("upgrade accepted, then the server closed with %d%s %s later", w.CloseCode, reasonText(w.CloseReason), probe.ShortDuration(w.ClosedAfter))
		l.Cause = "the application accepted the connection and then failed (1011 is an internal error; 1008 a policy violation; 1013 try again later)"
		l.Next = "check the application's logs for its WebSocket handler and the services it depends on"
	default:
		l.Status, l.Evidence = StatusFail, r.Error
		l.Cause, l.Next = "the WebSocket exchange failed", "check proxies' idle timeouts and the server's logs"
	}
	return l
}

func reasonText(reason string) string {
	if reason == "" {
		return ""
	}
	return fmt.Sprintf(" (%q)", reason)
}

func portOf(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
