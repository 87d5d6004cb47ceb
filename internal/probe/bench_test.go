package probe

import (
	"context"
	"testing"

	"github.com/dnsscience/dnsscience/internal/certtest"
)

// BenchmarkTLSProbe measures a full TLS probe (connect, handshake, chain
// examination) against a loopback server.
func BenchmarkTLSProbe(b *testing.B) {
	root := certtest.NewCA(b, "Bench Root")
	inter := root.Intermediate(b, "Bench Intermediate")
	addr := benchServer(b, inter.Served(inter.Leaf(b, host)))
	for b.Loop() {
		r, err := TLS(context.Background(), TLSRequest{Address: addr, ServerName: host, RootCAs: root.Pool})
		if err != nil || !r.OK {
			b.Fatal(err, r.Error)
		}
	}
}

// BenchmarkHTTPProbe measures an HTTPS probe (new connection every time).
func BenchmarkHTTPProbe(b *testing.B) {
	root := certtest.NewCA(b, "Bench Root")
	addr := benchServer(b, root.Leaf(b, host))
	url := "https://" + addr + "/"
	for b.Loop() {
		r, err := HTTP(context.Background(), HTTPRequest{URL: url, Host: host, RootCAs: root.Pool})
		if err != nil || !r.OK {
			b.Fatal(err, r.Error)
		}
	}
}
