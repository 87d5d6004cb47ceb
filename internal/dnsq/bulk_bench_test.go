package dnsq_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// BenchmarkBulk measures the bulk path end to end against an in-process
// server on loopback: reading names, the UDP sockets, matching, results
// and their JSON form. The server shares the CPU, so names/s is a floor;
// bench/dns.sh compares with dnsperf against knotd.
func BenchmarkBulk(b *testing.B) {
	s := dnstest.Start(b, anyA())
	srv := servers(b, s.Addr)
	for _, sockets := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("sockets=%d", sockets), func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			start := time.Now()
			sum, err := dnsq.Bulk(context.Background(), dnsq.BulkRequest{
				Input: &nameGen{n: b.N}, Servers: srv, Sockets: sockets, Concurrency: 100,
				Client: &dnsq.Client{Timeout: time.Second, Tries: 5},
			}, func(r dnsq.BulkResult) error {
				buf = r.AppendJSON(buf[:0])
				return nil
			})
			if err != nil || sum.NoError.Count != b.N {
				b.Fatalf("%v; %d of %d answered", err, sum.NoError.Count, b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "names/s")
		})
	}
}

// BenchmarkBulkJSON compares the JSON Lines encoder with encoding/json.
func BenchmarkBulkJSON(b *testing.B) {
	r := dnsq.BulkResult{Line: 12345, Name: "h12345.bench.test.", Type: "A", Server: "127.0.0.1:53", Transport: dnsq.UDP,
		Rcode: "NOERROR", Answer: []dnsq.Record{{Name: "h12345.bench.test.", Type: "A", Class: "IN", TTL: 3600, Data: "10.0.48.57"}},
		RTTMs: 0.412, Tries: 1}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendJSON(buf[:0])
	}
}
