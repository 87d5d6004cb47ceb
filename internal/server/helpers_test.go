package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
)

type ctxT = context.Context

var errDown = errors.New("database is down")

// dnsHandlerMux sends each query to the zone that holds its name, like a
// small recursive resolver in front of several zones.
type dnsHandlerMux map[string]dns.Handler

func (m dnsHandlerMux) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) == 1 {
		name := strings.ToLower(r.Question[0].Name)
		for origin, h := range m {
			if dns.IsSubDomain(origin, name) {
				h.ServeDNS(w, r)
				return
			}
		}
	}
	msg := new(dns.Msg)
	msg.SetRcode(r, dns.RcodeRefused)
	_ = w.WriteMsg(msg)
}

type rlPolicy = ratelimit.Policy

func tlsConfig(cert tls.Certificate) *tlsCfg {
	return &tlsCfg{Config: tls.Config{Certificates: []tls.Certificate{cert}}}
}

type tlsCfg struct{ Config tls.Config }

func netListen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// logSink is where a started server's log goes, readable for failures.
type logSink interface {
	io.Writer
	String() string
}

// startServe starts the built binary's `serve --listen ADDR args...` on a
// free loopback port, waits until /health answers and returns the
// address; the process is killed when ctx ends (the caller waits for it).
func startServe(ctx context.Context, t *testing.T, bin string, logs logSink, args ...string) (string, *exec.Cmd) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	srv := exec.CommandContext(ctx, bin, append([]string{"serve", "--listen", listen}, args...)...)
	srv.Stderr = logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + listen + "/health")
		if err == nil {
			resp.Body.Close()
			return listen, srv
		}
		if i > 400 {
			t.Fatalf("server did not start:\n%s", logs.String())
		}
		time.Sleep(25 * time.Millisecond) // polling the port the child opens
	}
}
