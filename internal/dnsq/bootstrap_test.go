package dnsq

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// ipOnlyDialer refuses host names, so a test fails instead of sending a
// name to the system resolver, and records what was dialled.
type ipOnlyDialer struct {
	mu     sync.Mutex
	dialed []string
}

func (d *ipOnlyDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.dialed = append(d.dialed, address)
	d.mu.Unlock()
	if _, err := netip.ParseAddr(host); err != nil {
		return nil, fmt.Errorf("test dialer: %q would be looked up; want an address", host)
	}
	return (&net.Dialer{}).DialContext(ctx, network, address)
}

// TestResolverEntryBootstrapAndTLSName: a DoT or DoH resolver entry is
// reached at its own addresses, and the certificate is checked against its
// DoT/DoH host name (the only name the certificate carries), not against
// the entry's short name or the address.
func TestResolverEntryBootstrapAndTLSName(t *testing.T) {
	t.Parallel()
	ca := certtest.NewCA(t, "bootstrap CA")
	cert := ca.Leaf(t, "dns.resolver.test")
	z := dnstest.NewZone(t, "example.test.", "$TTL 60\n@ SOA ns h 1 2 3 4 5\nwww A 192.0.2.10\n")
	_, dotPort, _ := net.SplitHostPort(dnstest.StartTLS(t, z, cert))
	dohURL := strings.Replace(dnstest.StartDoH(t, z, cert), "127.0.0.1", "dns.resolver.test", 1)
	list, err := parseResolvers([]byte(fmt.Sprintf("- {name: mine, ipv4: [127.0.0.1], dot: \"dns.resolver.test:%s\", doh: %q}\n", dotPort, dohURL)), "test")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM())
	for _, at := range []string{"@tls://mine", "@https://mine"} {
		srv, err := ResolveServer(at, list)
		if err != nil {
			t.Fatal(err)
		}
		d := &ipOnlyDialer{}
		c := &Client{Dialer: d, Tries: 1, TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		resp, err := c.Exchange(context.Background(), srv, Query{Name: "www.example.test.", Type: dns.TypeA})
		if err != nil || len(resp.Msg.Answer) != 1 {
			t.Errorf("%s: %v (dialled %v)", at, err, d.dialed)
			continue
		}
		if len(d.dialed) == 0 || !strings.HasPrefix(d.dialed[0], "127.0.0.1:") {
			t.Errorf("%s: dialled %v, want the entry's own address", at, d.dialed)
		}
	}
}
