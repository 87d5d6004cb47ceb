package dnsq_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

const exampleZone = `
$TTL 3600
@       IN SOA ns1.example.test. hostmaster.example.test. 2026112201 7200 3600 1209600 300
@       IN NS  ns1.example.test.
ns1     IN A   127.0.0.1
www     IN A   192.0.2.10
www     IN AAAA 2001:db8::10
alias   IN CNAME www
`

func exchange(t *testing.T, c *dnsq.Client, server string, name string, qtype uint16) *dnsq.Response {
	t.Helper()
	srv, err := dnsq.ParseServer(server)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Exchange(context.Background(), srv, dnsq.Query{Name: name, Type: qtype})
	if err != nil {
		t.Fatalf("exchange %s %s: %v", server, name, err)
	}
	return resp
}

func TestExchangeUDPAndTCP(t *testing.T) {
	z := dnstest.NewZone(t, "example.test.", exampleZone)
	s := dnstest.Start(t, z)
	for _, server := range []string{s.Addr, "tcp://" + s.Addr} {
		resp := exchange(t, &dnsq.Client{}, server, "www.example.test.", dns.TypeA)
		if got := dnsq.NewReply(resp); len(got.Answer) != 1 || got.Answer[0].Data != "192.0.2.10" {
			t.Errorf("%s: got answer %+v, want one A 192.0.2.10", server, got.Answer)
		}
		want := dnsq.UDP
		if strings.HasPrefix(server, "tcp") {
			want = dnsq.TCP
		}
		if resp.Transport != want {
			t.Errorf("%s: transport %s, want %s", server, resp.Transport, want)
		}
		if resp.RTT <= 0 || resp.RecvSize == 0 || resp.SentSize == 0 {
			t.Errorf("%s: RTT %v, sizes %d/%d: want all positive", server, resp.RTT, resp.SentSize, resp.RecvSize)
		}
	}
}

func TestTruncatedAnswerRetriedOverTCP(t *testing.T) {
	var b strings.Builder
	b.WriteString(exampleZone)
	for i := range 40 {
		fmt.Fprintf(&b, "big IN TXT \"record number %02d padded to make the answer larger than any udp buffer\"\n", i)
	}
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", b.String()))
	srv, _ := dnsq.ParseServer(s.Addr)
	resp, err := (&dnsq.Client{}).Exchange(context.Background(), srv, dnsq.Query{Name: "big.example.test.", Type: dns.TypeTXT, UDPSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Truncated || resp.Transport != dnsq.TCP || len(resp.Msg.Answer) != 40 {
		t.Errorf("got truncated=%v transport=%s answers=%d, want truncated=true transport=tcp answers=40",
			resp.Truncated, resp.Transport, len(resp.Msg.Answer))
	}
	// With the fallback off the truncated UDP answer is kept.
	resp, err = (&dnsq.Client{NoTCPFallback: true}).Exchange(context.Background(), srv, dnsq.Query{Name: "big.example.test.", Type: dns.TypeTXT, UDPSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Msg.Truncated || resp.Transport != dnsq.UDP {
		t.Errorf("no fallback: got tc=%v transport=%s, want tc=true over udp", resp.Msg.Truncated, resp.Transport)
	}
}

func TestTimeoutRetriesThenFails(t *testing.T) {
	s := dnstest.Start(t, dnstest.Silent())
	srv, _ := dnsq.ParseServer(s.Addr)
	c := &dnsq.Client{Timeout: 50 * time.Millisecond, Tries: 2}
	_, err := c.Exchange(context.Background(), srv, dnsq.Query{Name: "x.test."})
	if !errors.Is(err, dnsq.ErrNoAnswer) {
		t.Fatalf("got %v, want ErrNoAnswer", err)
	}
	// A server that drops the first query answers the retry.
	z := dnstest.NewZone(t, "example.test.", exampleZone)
	s2 := dnstest.Start(t, dnstest.DropFirst(1, z))
	srv2, _ := dnsq.ParseServer(s2.Addr)
	resp, err := c.Exchange(context.Background(), srv2, dnsq.Query{Name: "www.example.test."})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Tries != 2 {
		t.Errorf("got %d tries, want 2", resp.Tries)
	}
}

func TestContextCancelStopsExchange(t *testing.T) {
	s := dnstest.Start(t, dnstest.Silent())
	srv, _ := dnsq.ParseServer(s.Addr)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := (&dnsq.Client{Timeout: 10 * time.Second}).Exchange(ctx, srv, dnsq.Query{Name: "x.test."})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancel took %v; the exchange ignored ctx", time.Since(start))
	}
}

func TestDoTAndDoH(t *testing.T) {
	ca := certtest.NewCA(t, "test CA")
	cert := ca.Leaf(t, "dns.example.test", "127.0.0.1")
	z := dnstest.NewZone(t, "example.test.", exampleZone)
	dot := dnstest.StartTLS(t, z, cert)
	doh := dnstest.StartDoH(t, z, cert)
	trust := &tls.Config{RootCAs: ca.Pool}
	for _, tc := range []struct {
		server string
		get    bool
		want   dnsq.Transport
	}{
		{"tls://" + dot, false, dnsq.TLS},
		{doh, false, dnsq.HTTPS},
		{doh, true, dnsq.HTTPS},
	} {
		c := &dnsq.Client{TLSConfig: trust, DoHGet: tc.get}
		resp := exchange(t, c, tc.server, "alias.example.test.", dns.TypeA)
		r := dnsq.NewReply(resp)
		if resp.Transport != tc.want || len(r.Answer) != 2 || r.Answer[1].Data != "192.0.2.10" {
			t.Errorf("%s (get=%v): transport %s answer %+v, want %s with CNAME then A", tc.server, tc.get, resp.Transport, r.Answer, tc.want)
		}
	}
	// An untrusted certificate is an error, not an answer.
	srv, _ := dnsq.ParseServer("tls://" + dot)
	if _, err := (&dnsq.Client{Tries: 1}).Exchange(context.Background(), srv, dnsq.Query{Name: "www.example.test."}); err == nil {
		t.Error("DoT with an untrusted certificate succeeded; want a verification error")
	}
}
