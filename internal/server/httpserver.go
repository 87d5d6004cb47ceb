package server

import (
	"log"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Timeouts bound each phase of an HTTP exchange; zero fields are the
// documented defaults (docs/SERVER.md).
type Timeouts struct {
	// ReadHeader bounds reading a request's headers; 0 means 10 s.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included; 0 means 30 s.
	// A client sending its body slowly is cut off when it passes.
	Read time.Duration
	// Write bounds writing an answer; 0 means 60 s. Live streams lift it.
	Write time.Duration
	// Idle bounds a kept-alive connection between requests; 0 means 120 s.
	Idle time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&t.ReadHeader, 10*time.Second)
	def(&t.Read, 30*time.Second)
	def(&t.Write, 60*time.Second)
	def(&t.Idle, 120*time.Second)
	return t
}

// HTTPServer is the http.Server to serve s with: its handler and every
// timeout set; errLog receives the server's own errors (nil: the log
// package's default).
func (s *Server) HTTPServer(errLog *log.Logger) *http.Server {
	t := s.cfg.Timeouts
	return &http.Server{Handler: s.Handler(), ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle, MaxHeaderBytes: 64 << 10, ErrorLog: errLog}
}

// Listener wraps ln so that one client (an address, an IPv6 client's
// network) holds at most Config.MaxConnsPerClient connections at once;
// further ones are closed as they are accepted. Trusted proxies are not
// capped (they carry many clients).
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &capListener{Listener: ln, max: s.cfg.MaxConnsPerClient, key: s.connKey, open: map[string]int{}}
}

// connKey is the client a connection counts against, "" for none.
func (s *Server) connKey(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return ""
	}
	ip := ap.Addr().Unmap()
	if s.trusted(ip) {
		return ""
	}
	if ip.Is6() {
		if p, err := ip.Prefix(s.cfg.IPv6Prefix); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

type capListener struct {
	net.Listener
	max int
	key func(net.Addr) string

	mu   sync.Mutex
	open map[string]int
}

// Accept returns the next connection whose client is under its cap.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		k := l.key(c.RemoteAddr())
		if k == "" {
			return c, nil
		}
		l.mu.Lock()
		if l.open[k] >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[k]++
		l.mu.Unlock()
		return &cappedConn{Conn: c, release: func() { l.release(k) }}, nil
	}
}

func (l *capListener) release(k string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[k]--; l.open[k] <= 0 {
		delete(l.open, k)
	}
}

type cappedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *cappedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
