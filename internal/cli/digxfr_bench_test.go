package cli

import (
	"fmt"
	"io"
	"testing"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// BenchmarkXFRRender measures printing one transfer message of 1,000 A
// records in dig's layout (bench/axfr.sh compares whole transfers with dig).
func BenchmarkXFRRender(b *testing.B) {
	m := new(dns.Msg)
	for i := range 1000 {
		rr, err := dns.NewRR(fmt.Sprintf("h%d.xfr.test. 3600 IN A 10.0.%d.%d", i, i/256, i%256))
		if err != nil {
			b.Fatal(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := writeXFRMessage(io.Discard, m, false, dnsq.Style{}); err != nil {
			b.Fatal(err)
		}
	}
}
