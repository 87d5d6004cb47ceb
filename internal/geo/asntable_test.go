package geo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

const asnCSV = `1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."
1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd
8.8.8.0,8.8.8.255,15169,Google LLC
8.8.9.0,8.8.9.0,15169,Google LLC
255.255.255.0,255.255.255.255,65000,Top
2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC
2001:4860:1::,2001:4860:1::ff,64496,"Inner ""quoted"""
2a00::,2a00::,64497,
`

func TestASNTableLookup(t *testing.T) {
	b := newASNBuilder()
	if err := b.readCSV(strings.NewReader(asnCSV)); err != nil {
		t.Fatal(err)
	}
	tab := b.build()
	if v4, v6 := tab.rows(); v4 != 5 || v6 != 3 {
		t.Fatalf("rows: got %d v4 %d v6, want 5 and 3", v4, v6)
	}
	if len(tab.nets) != 6 {
		t.Errorf("distinct (asn, org) pairs: got %d, want 6 (Google LLC stored once)", len(tab.nets))
	}
	tests := []struct {
		addr string
		asn  uint32
		org  string
	}{
		{"0.255.255.255", 0, ""},
		{"1.0.0.0", 13335, "Cloudflare, Inc."},
		{"1.0.0.255", 13335, "Cloudflare, Inc."},
		{"1.0.1.0", 0, ""}, // gap
		{"1.0.3.255", 0, ""},
		{"1.0.4.0", 38803, "Gtelecom Pty Ltd"},
		{"1.0.7.255", 38803, "Gtelecom Pty Ltd"},
		{"8.8.8.8", 15169, "Google LLC"},
		{"8.8.9.0", 15169, "Google LLC"},
		{"8.8.9.1", 0, ""},
		{"255.255.255.255", 65000, "Top"},
		{"2001:4860::", 15169, "Google LLC"},
		{"2001:4860:1::80", 64496, `Inner "quoted"`}, // overlapping: the later start answers
		{"2001:4860:1::100", 15169, "Google LLC"},    // ... and the outer range around it
		{"2001:4860:ffff::1", 15169, "Google LLC"},
		{"2001:485f:ffff:ffff:ffff:ffff:ffff:ffff", 0, ""},
		{"2a00::", 64497, ""},
		{"2a00::1", 0, ""},
		{"::", 0, ""},
	}
	for _, tt := range tests {
		asn, org, ok := tab.lookup(netip.MustParseAddr(tt.addr))
		if asn != tt.asn || org != tt.org || ok != (tt.asn != 0) {
			t.Errorf("%s: got AS%d %q %v, want AS%d %q", tt.addr, asn, org, ok, tt.asn, tt.org)
		}
	}
	if tab.sizeBytes() <= 0 {
		t.Error("sizeBytes not positive")
	}
}

func TestASNTableUnsortedInput(t *testing.T) {
	b := newASNBuilder()
	in := "8.8.8.0,8.8.8.255,15169,Google\n1.0.0.0,1.0.0.255,13335,Cloudflare\n4.0.0.0,4.0.0.255,3356,Level3\n"
	if err := b.readCSV(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	tab := b.build()
	for addr, want := range map[string]uint32{"1.0.0.1": 13335, "4.0.0.1": 3356, "8.8.8.8": 15169} {
		if asn, _, _ := tab.lookup(netip.MustParseAddr(addr)); asn != want {
			t.Errorf("%s: got AS%d, want AS%d", addr, asn, want)
		}
	}
}

func TestASNCSVErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.0.0.0,1.0.0.255\n", "malformed ASN CSV: line 1: got 2 fields, want start,end,asn,organisation"},
		{"x,1.0.0.255,1,a\n", `malformed ASN CSV: line 1: bad start address: ParseAddr("x"): unable to parse IP`},
		{"1.0.0.0,1.0.0.255,1,a\n1.0.0.0,y,1,a\n", `malformed ASN CSV: line 2: bad end address: ParseAddr("y"): unable to parse IP`},
		{"1.0.0.9,1.0.0.1,1,a\n", "malformed ASN CSV: line 1: bad range 1.0.0.9-1.0.0.1"},
		{"1.0.0.0,::1,1,a\n", "malformed ASN CSV: line 1: bad range 1.0.0.0-::1"},
		{"1.0.0.0,1.0.0.1,AS-X,a\n", `malformed ASN CSV: line 1: bad ASN "AS-X"`},
		{"1.0.0.0,1.0.0.1,1,x\"y\n", `malformed ASN CSV: line 1: bare " in an unquoted organisation`},
		{"1.0.0.0,1.0.0.1,1,\"open\nclose\"\n", "malformed ASN CSV: line 1: unterminated quoted organisation (quoted fields must end on their line)"},
		{"\n1.0.0.0,1.0.0.1,1,\"a\"b\"\n", `malformed ASN CSV: line 2: lone " inside a quoted organisation`},
	}
	for _, tt := range tests {
		err := newASNBuilder().readCSV(strings.NewReader(tt.in))
		if err == nil || err.Error() != tt.want || !errors.Is(err, errBadCSV) {
			t.Errorf("%q:\n got %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

func FuzzASNCSV(f *testing.F) {
	f.Add(asnCSV)
	f.Add("1.0.0.0,1.0.0.255,AS1,x\n")
	f.Fuzz(func(t *testing.T, s string) {
		b := newASNBuilder()
		if err := b.readCSV(strings.NewReader(s)); err != nil {
			return
		}
		tab := b.build()
		// Every range's start must answer with an ASN from the table.
		for i, start := range tab.v4start {
			var a [4]byte
			a[0], a[1], a[2], a[3] = byte(start>>24), byte(start>>16), byte(start>>8), byte(start)
			if _, _, ok := tab.lookup(netip.AddrFrom4(a)); !ok {
				t.Fatalf("row %d start %v not found", i, netip.AddrFrom4(a))
			}
		}
	})
}

// TestASNTableMatchesLinearScan checks the indexed search against a plain
// scan over a table spanning many index blocks, IPv4 and IPv6.
func TestASNTableMatchesLinearScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var sb strings.Builder
	var v4 [][2]uint32
	next := uint32(1 << 24)
	for i := range 3000 {
		next += uint32(r.IntN(4096)) // gaps, sometimes none
		end := next + uint32(r.IntN(2048))
		v4 = append(v4, [2]uint32{next, end})
		fmt.Fprintf(&sb, "%s,%s,%d,org%d\n", u32Addr(next), u32Addr(end), i+1, i%7)
		next = end + 1
	}
	for i := range 700 {
		fmt.Fprintf(&sb, "2001:%x::,2001:%x::ffff,%d,v6\n", 0x100+i*2, 0x100+i*2, 100000+i)
	}
	b := newASNBuilder()
	if err := b.readCSV(strings.NewReader(sb.String())); err != nil {
		t.Fatal(err)
	}
	tab := b.build()
	if len(tab.v4idx) != (3000+asnBlock-1)/asnBlock || len(tab.v6idx) != (700+asnBlock-1)/asnBlock {
		t.Fatalf("index sizes %d, %d", len(tab.v4idx), len(tab.v6idx))
	}
	for range 20000 {
		x := uint32(1<<24) + uint32(r.IntN(int(next-1<<24+5000)))
		want := uint32(0)
		for i, rg := range v4 {
			if rg[0] <= x && x <= rg[1] {
				want = uint32(i + 1)
			}
		}
		if got, _, _ := tab.lookup(u32Addr(x)); got != want {
			t.Fatalf("%s: got AS%d, want AS%d", u32Addr(x), got, want)
		}
	}
	for i := range 700 {
		in := netip.MustParseAddr(fmt.Sprintf("2001:%x::ff", 0x100+i*2))
		out := netip.MustParseAddr(fmt.Sprintf("2001:%x::1", 0x101+i*2))
		if got, _, _ := tab.lookup(in); got != uint32(100000+i) {
			t.Fatalf("%s: got AS%d, want AS%d", in, got, 100000+i)
		}
		if got, _, ok := tab.lookup(out); ok {
			t.Fatalf("%s (a gap): got AS%d", out, got)
		}
	}
}

func u32Addr(x uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}
