// Package dnstest runs real DNS servers on loopback for tests: plain DNS on
// one UDP and TCP port, DNS over TLS and DNS over HTTPS, with handlers that
// serve zones authoritatively (answers, referrals with glue, NXDOMAIN,
// NODATA) or misbehave on purpose.
package dnstest

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is a DNS server listening on one loopback port for UDP and TCP.
type Server struct {
	Addr string // host:port, the same for UDP and TCP
	udp  *dns.Server
	tcp  *dns.Server
}

// Start serves h on 127.0.0.1 on a free port, over UDP and TCP; it stops
// when the test ends.
func Start(t testing.TB, h dns.Handler) *Server { return StartOn(t, "127.0.0.1", h) }

// StartOn is Start on a given loopback address such as 127.0.0.2 or ::1.
func StartOn(t testing.TB, ip string, h dns.Handler) *Server {
	t.Helper()
	s, err := Listen(ip, "0", h)
	if err != nil {
		t.Fatalf("starting DNS server on %s: %v", ip, err)
	}
	t.Cleanup(s.Close)
	return s
}

// Listen serves h on ip:port over UDP and TCP (port "0" picks a free port
// that is free for both). Close stops it.
func Listen(ip, port string, h dns.Handler) (*Server, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, port))
		if err != nil {
			return nil, fmt.Errorf("listening on udp %s: %w", ip, err)
		}
		addr := pc.LocalAddr().String()
		l, err := net.Listen("tcp", addr)
		if err != nil {
			pc.Close()
			lastErr = err
			if port != "0" {
				break
			}
			continue
		}
		s := &Server{Addr: addr}
		s.udp = &dns.Server{PacketConn: pc, Handler: h, UDPSize: 65535}
		s.tcp = &dns.Server{Listener: l, Handler: h}
		if err := startAll(s.udp, s.tcp); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("listening on tcp %s: %w", ip, lastErr)
}

// Close stops the server.
func (s *Server) Close() {
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if srv != nil {
			_ = srv.Shutdown()
		}
	}
}

// startAll starts servers and waits until each is serving.
func startAll(servers ...*dns.Server) error {
	errs := make(chan error, len(servers))
	for _, srv := range servers {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { errs <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-errs:
			return fmt.Errorf("starting DNS server: %w", err)
		case <-time.After(5 * time.Second):
			return fmt.Errorf("starting DNS server: not serving after 5s")
		}
	}
	return nil
}

// StartTLS serves h as DNS over TLS on 127.0.0.1 with the given certificate
// and returns host:port.
func StartTLS(t testing.TB, h dns.Handler, cert tls.Certificate) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatalf("listening for DoT: %v", err)
	}
	srv := &dns.Server{Listener: l, Net: "tcp-tls", Handler: h}
	if err := startAll(srv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown() })
	return l.Addr().String()
}

// StartDoH serves h as DNS over HTTPS (RFC 8484, GET and POST on
// /dns-query) with the given certificate and returns the URL.
func StartDoH(t testing.TB, h dns.Handler, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(DoHHandler(h))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/dns-query"
}
