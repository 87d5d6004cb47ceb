package dnsq

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
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

func stdJSON(t testing.TB, r BulkResult) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	weird := "a\"b\\c\x00\x01\b\f\n\r\t\x1f<>&é\u2028\u2029\xff\xfe日本"
	for _, r := range []BulkResult{
		{Line: 1, Name: "www.example.", Type: "A", Server: "127.0.0.1:53", Transport: UDP, Rcode: "NOERROR",
			Answer: []Record{{Name: "www.example.", Type: "A", Class: "IN", TTL: 3600, Data: "192.0.2.1"}}, RTTMs: 0.123, Tries: 1},
		{Line: 2, Name: weird, Type: weird, Answer: []Record{}, Error: "invalid line: " + weird},
		{Line: 3, Name: "x.", Type: "TXT", Rcode: "NXDOMAIN", Answer: []Record{{Name: weird, Data: weird, TTL: math.MaxUint32}, {}}, RTTMs: 1e-7},
		{Line: 4, RTTMs: 123456789.5, Answer: nil, Error: "timeout", Tries: 3},
		{Line: 5, RTTMs: 1e22},
	} {
		got := r.AppendJSON(nil)
		if want := stdJSON(t, r); !bytes.Equal(got, want) {
			t.Errorf("AppendJSON\n%s\nwant (encoding/json)\n%s", got, want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("www.example.", "192.0.2.1", 0.5, 7)
	f.Add("\xff\u2028\"", "\x00<>", 1e-9, -1)
	f.Fuzz(func(t *testing.T, name, data string, rtt float64, line int) {
		if math.IsNaN(rtt) || math.IsInf(rtt, 0) {
			return
		}
		r := BulkResult{Line: line, Name: name, Type: data, Rcode: name, RTTMs: rtt, Error: data,
			Answer: []Record{{Name: name, Data: data, Class: name, Type: data}}}
		if got, want := r.AppendJSON(nil), stdJSON(t, r); !bytes.Equal(got, want) {
			t.Errorf("AppendJSON\n%q\nwant\n%q", got, want)
		}
	})
}

func TestBulkRecordsMatchesRecords(t *testing.T) {
	var rrs []dns.RR
	for _, s := range []string{
		"a.example. 60 IN A 192.0.2.1", "a.example. 60 IN AAAA 2001:db8::1", "a.example. 60 IN AAAA ::ffff:192.0.2.1",
		"a\\.b.example. 60 IN CNAME t\\032x.example.", "a.example. 60 IN MX 10 mx.example.", "a.example. 60 IN TXT \"x y\" \"z\"",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	got, want := bulkRecords(rrs), Records(rrs)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
