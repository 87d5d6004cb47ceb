package dnsq

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Transport is how a query travels to its server.
type Transport string

// The transports dnsscience speaks.
const (
	UDP   Transport = "udp"   // UDP, retried over TCP when the answer is truncated
	TCP   Transport = "tcp"   // TCP (RFC 7766)
	TLS   Transport = "tls"   // DNS over TLS (RFC 7858)
	HTTPS Transport = "https" // DNS over HTTPS (RFC 8484)
	QUIC  Transport = "quic"  // DNS over QUIC (RFC 9250)
)

// ErrBadServer is wrapped by every server syntax error.
var ErrBadServer = errors.New("bad server")

// Server is where a query goes.
type Server struct {
	// Transport defaults to UDP.
	Transport Transport `json:"transport"`
	// Addr is host:port for UDP, TCP and TLS; for HTTPS it is the URL.
	Addr string `json:"address"`
	// Name is how the user named the server (a resolver name such as
	// "cloudflare", or the host as typed); it is used for display and, for
	// TLS, as the certificate name when it is a host name.
	Name string `json:"name,omitempty"`
	// TLSName is the name the DoT certificate must carry; empty means the
	// host of Addr. A resolver entry sets it to its DoT host name while Addr
	// holds one of its own addresses.
	TLSName string `json:"tls_name,omitempty"`
	// Bootstrap lists addresses to connect to for a DoH URL's host instead
	// of looking the host up (a resolver entry's own addresses).
	Bootstrap []string `json:"bootstrap,omitempty"`
}

// String renders the server as the user would type it after @.
func (s Server) String() string {
	switch s.Transport {
	case TLS:
		return "tls://" + s.Addr
	case HTTPS:
		return s.Addr
	case TCP:
		return "tcp://" + s.Addr
	case QUIC:
		return "quic://" + s.Addr
	}
	return s.Addr
}

// Display is the server as dig prints it in ";; SERVER:" (address#port).
func (s Server) Display() string {
	if s.Transport == HTTPS {
		return s.Addr
	}
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return s.Addr
	}
	return host + "#" + port
}

// ParseServer parses the server syntax accepted after @:
//
//	host | host:port | [v6]:port | v6     plain DNS over UDP (port 53)
//	tcp://host[:port]                      DNS over TCP
//	tls://host[:port]                      DNS over TLS (port 853)
//	https://host[:port]/path               DNS over HTTPS (path defaults to /dns-query)
//	quic://host[:port]                     DNS over QUIC (RFC 9250, port 853)
//
// A leading @ is allowed and ignored. Host names are not resolved here.
func ParseServer(s string) (Server, error) {
	in := strings.TrimPrefix(s, "@")
	if in == "" {
		return Server{}, fmt.Errorf("%w: empty server; want host[:port], tls://host[:port] or https://host/path", ErrBadServer)
	}
	scheme, rest, hasScheme := strings.Cut(in, "://")
	if !hasScheme {
		return hostPortServer(UDP, in, "53", s)
	}
	switch strings.ToLower(scheme) {
	case "udp", "dns":
		return hostPortServer(UDP, rest, "53", s)
	case "tcp":
		return hostPortServer(TCP, rest, "53", s)
	case "tls", "dot":
		return hostPortServer(TLS, rest, "853", s)
	case "quic", "doq":
		return hostPortServer(QUIC, rest, "853", s)
	case "https", "doh":
		u, err := url.Parse("https://" + rest)
		if err != nil || u.Host == "" {
			return Server{}, fmt.Errorf("%w: %q is not a valid DoH URL; want https://host[:port]/path", ErrBadServer, s)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/dns-query"
		}
		return Server{Transport: HTTPS, Addr: u.String(), Name: u.Hostname()}, nil
	}
	return Server{}, fmt.Errorf("%w: unknown scheme %q in %q; want udp://, tcp://, tls://, https:// or quic://", ErrBadServer, scheme, s)
}

func hostPortServer(t Transport, hp, defPort, orig string) (Server, error) {
	hp = strings.TrimSuffix(hp, "/")
	host, port := hp, defPort
	if strings.HasPrefix(hp, "[") != strings.Contains(hp, "]") {
		return Server{}, fmt.Errorf("%w: %q has an unbalanced bracket; write IPv6 with a port as [2001:db8::1]:53", ErrBadServer, orig)
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(hp, "["), "]")); err == nil {
		host = ip.String() // bare IPv4 or IPv6 without a port
	} else if h, p, err := net.SplitHostPort(hp); err == nil {
		host, port = h, p
	} else if strings.ContainsAny(hp, ":/[] ") {
		return Server{}, fmt.Errorf("%w: %q is not host[:port]", ErrBadServer, orig)
	}
	if host == "" {
		return Server{}, fmt.Errorf("%w: %q has no host", ErrBadServer, orig)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return Server{}, fmt.Errorf("%w: port %q in %q is not a number from 1 to 65535", ErrBadServer, port, orig)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		if _, ok := dns.IsDomainName(host); !ok {
			return Server{}, fmt.Errorf("%w: %q is neither an IP address nor a host name", ErrBadServer, host)
		}
	}
	return Server{Transport: t, Addr: net.JoinHostPort(host, port), Name: host}, nil
}

// SystemServers returns the name servers of a resolv.conf file
// (/etc/resolv.conf when path is empty), as UDP servers.
func SystemServers(path string) ([]Server, error) {
	if path == "" {
		path = "/etc/resolv.conf"
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("reading resolver configuration: %w", err)
	}
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading resolver configuration %s: %w", path, err)
	}
	var out []Server
	for _, ns := range cfg.Servers {
		addr := net.JoinHostPort(ns, cfg.Port)
		out = append(out, Server{Transport: UDP, Addr: addr, Name: ns})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no nameserver", path)
	}
	return out, nil
}
