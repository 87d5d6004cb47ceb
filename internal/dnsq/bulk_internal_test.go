package dnsq

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// The fast path's hand-built queries must be byte for byte what Query.Msg
// packs.
func TestWireTemplateMatchesMsg(t *testing.T) {
	for _, q := range []Query{
		{Name: "www.example.test.", Type: dns.TypeA},
		{Name: "xn--bcher-kva.example.", Type: dns.TypeMX, NoRecurse: true, CD: true, AD: true},
		{Name: "a\\.b.example.", Type: dns.TypeTXT, DO: true, NSID: true, UDPSize: 4096},
		{Name: ".", Type: dns.TypeNS, NoEDNS: true},
		{Name: "hostname.bind.", Type: dns.TypeTXT, Class: dns.ClassCHAOS},
		{Name: "e.example.", Type: dns.TypeA, ClientSubnet: netip.MustParsePrefix("192.0.2.0/24")},
	} {
		tmpl, err := newWireTemplate(q)
		if err != nil {
			t.Fatal(err)
		}
		got, qend, err := tmpl.build(nil, 0x1234, q.Name, q.Type)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := q.Msg(0x1234)
		want, _ := m.Pack()
		if !bytes.Equal(got, want) {
			t.Errorf("%s %d: built\n%x\nwant\n%x", q.Name, q.Type, got, want)
		}
		if qend != len(want)-len(tmpl.tail) {
			t.Errorf("%s: question ends at %d", q.Name, qend)
		}
	}
}

func TestParseBulkLine(t *testing.T) {
	for _, tc := range []struct {
		line, name string
		qtype      uint16
		err        string
	}{
		{"example.com", "example.com.", dns.TypeAAAA, ""},
		{"example.com. mx", "example.com.", dns.TypeMX, ""},
		{"example.com TYPE65", "example.com.", 65, ""},
		{"\texample.com\t NS ", "example.com.", dns.TypeNS, ""},
		{"bücher.example", "xn--bcher-kva.example.", dns.TypeAAAA, ""},
		{"example.com A B", "", 0, "3 fields"},
		{"example.com NOPE", "", 0, `unknown type "NOPE"`},
		{"a..b", "", 0, "empty label"},
		{strings.Repeat("x", 64) + ".com", "", 0, "at most 63"},
		{"   ", "", 0, "empty line"},
	} {
		name, qtype, err := ParseBulkLine(tc.line, dns.TypeAAAA)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: got err %v, want one containing %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || name != tc.name || qtype != tc.qtype {
			t.Errorf("%q: got %q %d %v, want %q %d", tc.line, name, qtype, err, tc.name, tc.qtype)
		}
	}
}

func FuzzParseBulkLine(f *testing.F) {
	for _, s := range []string{"example.com", "a.b MX", "x..y", "bücher.de AAAA", "a b c", "\\065.test TYPE1"} {
		f.Add(s)
	}
	tmpl, err := newWireTemplate(Query{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, qtype, err := ParseBulkLine(line, dns.TypeA)
		if err != nil {
			return
		}
		if !strings.HasSuffix(name, ".") {
			t.Errorf("%q: got %q %d", line, name, qtype)
		}
		// Every name accepted must pack into a query.
		if _, _, err := tmpl.build(nil, 1, name, qtype); err != nil {
			t.Errorf("%q: accepted name %q does not pack: %v", line, name, err)
		}
	})
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("y", maxBulkLine+10)
	in := "a\r\nb\n" + long + "\nc"
	br := newTestReader(in)
	var lines []string
	var long2 []bool
	for {
		l, tooLong, err := readLine(br)
		if err != nil {
			break
		}
		lines = append(lines, string(bytes.TrimSpace(l)))
		long2 = append(long2, tooLong)
	}
	if len(lines) != 4 || lines[0] != "a" || lines[1] != "b" || len(lines[2]) != maxBulkLine || !long2[2] || lines[3] != "c" || long2[3] {
		t.Errorf("got %d lines (%q, %q, %d bytes long=%v, %q)", len(lines), lines[0], lines[1], len(lines[2]), long2[2], lines[3])
	}
}

func newTestReader(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), 16) }
