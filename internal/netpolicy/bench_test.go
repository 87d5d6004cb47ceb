package netpolicy

import (
	"net/netip"
	"testing"
)

func BenchmarkDefaultCheck(b *testing.B) {
	p := Default().Allow(netip.MustParsePrefix("10.1.0.0/16"))
	addrs := []netip.Addr{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2606:4700::1111"), netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("169.254.169.254")}
	for b.Loop() {
		for _, a := range addrs {
			_ = p.Check(a)
		}
	}
}
