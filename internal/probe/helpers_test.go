package probe

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// tlsServer serves h over TLS with cert on loopback and returns host:port.
func tlsServer(t *testing.T, cert tls.Certificate, h http.Handler) string {
	t.Helper()
	return serveTLS(t, cert, h)
}

func benchServer(b *testing.B, cert tls.Certificate) string { return serveTLS(b, cert, nil) }

func serveTLS(t testing.TB, cert tls.Certificate, h http.Handler) string {
	t.Helper()
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // probes hang up after the handshake
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustOK(t *testing.T, r *Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("got request error %v", err)
	}
	if !r.OK {
		t.Fatalf("got failure in phase %s: %s, want OK", r.Phase, r.Error)
	}
}

func mustFail(t *testing.T, r *Result, err error, phase Phase) {
	t.Helper()
	if err != nil {
		t.Fatalf("got request error %v", err)
	}
	if r.OK {
		t.Fatalf("got OK, want a failure in phase %s", phase)
	}
	if r.Phase != phase {
		t.Fatalf("got failed phase %s (%s), want %s", r.Phase, r.Error, phase)
	}
}
