package netpolicy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/miekg/dns"
)

func listen(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// resolverFor returns a Go resolver that sends every query to the loopback
// DNS server at addr, never to the system resolver.
func resolverFor(addr string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

func TestDialerDeniesLiteral(t *testing.T) {
	addr := listen(t)
	_, err := Default().Dialer().DialContext(context.Background(), "tcp", addr)
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("got %v, want ErrDenied", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1 is in 127.0.0.0/8 (loopback)") {
		t.Fatalf("got %q, want address and rule in the message", err)
	}
}

func TestDialerAllows(t *testing.T) {
	addr := listen(t)
	for name, p := range map[string]*Policy{
		"AllowAll":      AllowAll(),
		"nil":           nil,
		"Default+Allow": Default().Allow(netip.MustParsePrefix("127.0.0.0/8")),
	} {
		c, err := p.Dialer().DialContext(context.Background(), "tcp", addr)
		if err != nil {
			t.Errorf("%s: got %v, want a connection", name, err)
			continue
		}
		c.Close()
	}
}

func TestDialerHostnameResolvingToDenied(t *testing.T) {
	zone := dnstest.NewZone(t, "example.test.", `
$TTL 60
@        IN SOA ns1 host 1 3600 600 86400 60
@        IN NS  ns1
ns1      IN A   192.0.2.53
sneaky   IN A   127.0.0.1
meta     IN A   169.254.169.254
`)
	dnsSrv := dnstest.Start(t, zone)
	addr := listen(t)
	_, port, _ := net.SplitHostPort(addr)

	d := &Dialer{Policy: Default(), Base: net.Dialer{Resolver: resolverFor(dnsSrv.Addr), Timeout: 5 * time.Second}}
	for _, host := range []string{"sneaky.example.test.", "meta.example.test."} {
		_, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort(host, port))
		if !errors.Is(err, ErrDenied) {
			t.Errorf("%s: got %v, want ErrDenied", host, err)
		}
	}
	if zone.Queries() == 0 {
		t.Fatal("the loopback DNS server was never asked: the name was not resolved through it")
	}
	// The same name is reachable once its address is allowed.
	ok := &Dialer{Policy: Default().Allow(netip.MustParsePrefix("127.0.0.1/32")), Base: d.Base}
	c, err := ok.DialContext(context.Background(), "tcp", net.JoinHostPort("sneaky.example.test.", port))
	if err != nil {
		t.Fatalf("allowed: got %v, want a connection", err)
	}
	c.Close()
}

func TestDialerKeepsBaseControl(t *testing.T) {
	addr := listen(t)
	called := false
	d := &Dialer{Policy: AllowAll()}
	d.Base.Control = func(network, address string, _ syscall.RawConn) error {
		called = true
		return nil
	}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !called {
		t.Fatal("the base dialer's Control hook did not run")
	}
}

func TestDialerInHTTPTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{DialContext: Default().Dialer().DialContext}}
	_, err := client.Get(srv.URL)
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("got %v, want ErrDenied through http.Transport", err)
	}
	client = &http.Client{Transport: &http.Transport{DialContext: AllowAll().Dialer().DialContext}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("got status %d, want 200", resp.StatusCode)
	}
}

func TestDialerInDNSClient(t *testing.T) {
	srv := dnstest.Start(t, dnstest.Rcode(dns.RcodeSuccess))
	c := &dnsq.Client{Dialer: Default().Dialer(), Tries: 1, Timeout: 2 * time.Second}
	_, err := c.Exchange(context.Background(), dnsq.Server{Transport: dnsq.UDP, Addr: srv.Addr}, dnsq.Query{Name: "a.example.test."})
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("UDP: got %v, want ErrDenied", err)
	}
	c.Dialer = AllowAll().Dialer()
	if _, err := c.Exchange(context.Background(), dnsq.Server{Transport: dnsq.UDP, Addr: srv.Addr}, dnsq.Query{Name: "a.example.test."}); err != nil {
		t.Fatalf("allowed: got %v", err)
	}
}

func TestDialerDeniesMappedAndUnix(t *testing.T) {
	addr := listen(t)
	_, port, _ := net.SplitHostPort(addr)
	_, err := Default().Dialer().DialContext(context.Background(), "tcp", "[::ffff:127.0.0.1]:"+port)
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("IPv4-mapped loopback: got %v, want ErrDenied", err)
	}
	_, err = Default().Dialer().DialContext(context.Background(), "unix", "/run/nonexistent.sock")
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("unix socket: got %v, want ErrDenied", err)
	}
}
