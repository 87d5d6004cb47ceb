package probe

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

// bannerServer greets every client with banner and echoes one line back.
func bannerServer(t *testing.T, banner string) string {
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
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte(banner))
				line, _ := bufio.NewReader(c).ReadString('\n')
				_, _ = c.Write([]byte("echo " + line))
			}()
		}
	}()
	return l.Addr().String()
}

func TestTCPConnect(t *testing.T) {
	addr := bannerServer(t, "220 ready\r\n")
	r, err := TCP(ctx(t), TCPRequest{Address: addr})
	mustOK(t, r, err)
	if r.Address != addr || r.TCP.Family != "ipv4" {
		t.Fatalf("got address %s family %s, want %s ipv4", r.Address, r.TCP.Family, addr)
	}
	if r.Timings.Connect <= 0 || r.Timings.Total < r.Timings.Connect {
		t.Fatalf("got timings %+v, want connect > 0 and total >= connect", r.Timings)
	}
}

func TestTCPBanner(t *testing.T) {
	addr := bannerServer(t, "220 ready\r\n")
	r, err := TCP(ctx(t), TCPRequest{Address: addr, Expect: "220 ready"})
	mustOK(t, r, err)
	if !r.TCP.Matched || !strings.HasPrefix(r.TCP.Received, "220") || r.Timings.FirstByte <= 0 {
		t.Fatalf("got %+v first byte %v, want the banner matched", r.TCP, r.Timings.FirstByte)
	}
	r, err = TCP(ctx(t), TCPRequest{Address: addr, Send: "PING\n", Expect: "echo PING"})
	mustOK(t, r, err)
	r, err = TCP(ctx(t), TCPRequest{Address: addr, Send: "PING\n", Expect: "SSH-2.0"})
	mustFail(t, r, err, PhaseRead)
	if !strings.Contains(r.Error, `does not contain "SSH-2.0"`) {
		t.Fatalf("got %q, want the missing expectation named", r.Error)
	}
}

func TestTCPClosedPort(t *testing.T) {
	r, err := TCP(ctx(t), TCPRequest{Address: closedPort(t)})
	mustFail(t, r, err, PhaseConnect)
	if !strings.Contains(r.Error, "refused") {
		t.Fatalf("got %q, want connection refused", r.Error)
	}
}

func TestTCPConnectTo(t *testing.T) {
	addr := bannerServer(t, "hi")
	_, port, _ := net.SplitHostPort(addr)
	r, err := TCP(ctx(t), TCPRequest{Address: "db.example.test:" + port, Options: Options{ConnectTo: "127.0.0.1"}})
	mustOK(t, r, err)
	if r.Address != addr {
		t.Fatalf("got %s, want %s", r.Address, addr)
	}
}

func TestTCPPolicy(t *testing.T) {
	addr := bannerServer(t, "hi")
	r, err := TCP(ctx(t), TCPRequest{Address: addr, Options: Options{Dialer: netpolicy.Default().Dialer()}})
	mustFail(t, r, err, PhasePolicy)
	if !errors.Is(r.Err, netpolicy.ErrDenied) {
		t.Fatalf("got %v, want ErrDenied", r.Err)
	}
	allowed := netpolicy.Default().Allow(netip.MustParsePrefix("127.0.0.1/32")).Dialer()
	r, err = TCP(ctx(t), TCPRequest{Address: addr, Options: Options{Dialer: allowed}})
	mustOK(t, r, err)
}

func TestTCPBadRequest(t *testing.T) {
	for _, a := range []string{"", "host-without-port", ":80", "host:"} {
		if _, err := TCP(ctx(t), TCPRequest{Address: a}); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q: got %v, want ErrBadRequest", a, err)
		}
	}
}

func TestTCPResolvesThroughDialerResolver(t *testing.T) {
	zone := dnstest.NewZone(t, "example.test.", "$TTL 60\n@ IN SOA ns host 1 2 3 4 5\n@ IN NS ns\nns IN A 192.0.2.1\ndb IN A 127.0.0.1\n")
	dnsAddr := dnstest.Start(t, zone).Addr
	addr := bannerServer(t, "hi")
	_, port, _ := net.SplitHostPort(addr)
	d := netpolicy.AllowAll().Dialer()
	d.Base.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, network, dnsAddr)
	}}
	r, err := TCP(ctx(t), TCPRequest{Address: "db.example.test.:" + port, Options: Options{Dialer: d}})
	mustOK(t, r, err)
	if len(r.Resolved) != 1 || r.Resolved[0] != "127.0.0.1" || r.Timings.DNS <= 0 {
		t.Fatalf("got resolved %v dns %v", r.Resolved, r.Timings.DNS)
	}
	// A name resolving to a denied address is refused after resolution.
	d.Policy = netpolicy.Default()
	r, err = TCP(ctx(t), TCPRequest{Address: "db.example.test.:" + port, Options: Options{Dialer: d}})
	mustFail(t, r, err, PhasePolicy)
}
