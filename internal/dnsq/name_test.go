package dnsq

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"example.com", "example.com.", ""},
		{"Example.COM.", "Example.COM.", ""},
		{".", ".", ""},
		{"_dmarc.example.com", "_dmarc.example.com.", ""},
		{"bücher.de", "xn--bcher-kva.de.", ""},
		{"", "", "empty name"},
		{"a..b", "", "empty label"},
		{".a", "", "empty label"},
		{strings.Repeat("x", 64) + ".com", "", "a label holds at most 63"},
		{strings.Repeat("abc.", 64), "", "a name holds at most 255"},
		{"a b.com", "", "space or control character"},
	} {
		got, err := NormalizeName(tc.in)
		if tc.err != "" {
			if err == nil || !errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("NormalizeName(%q) = %q, %v; want an ErrBadName mentioning %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseServer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Server
		err  string
	}{
		{"@127.0.0.1", Server{Transport: UDP, Addr: "127.0.0.1:53", Name: "127.0.0.1"}, ""},
		{"127.0.0.1:5353", Server{Transport: UDP, Addr: "127.0.0.1:5353", Name: "127.0.0.1"}, ""},
		{"::1", Server{Transport: UDP, Addr: "[::1]:53", Name: "::1"}, ""},
		{"[::1]:53", Server{Transport: UDP, Addr: "[::1]:53", Name: "::1"}, ""},
		{"tcp://ns1.example.com", Server{Transport: TCP, Addr: "ns1.example.com:53", Name: "ns1.example.com"}, ""},
		{"tls://dns.example:8853", Server{Transport: TLS, Addr: "dns.example:8853", Name: "dns.example"}, ""},
		{"https://dns.example", Server{Transport: HTTPS, Addr: "https://dns.example/dns-query", Name: "dns.example"}, ""},
		{"https://dns.example:8443/q", Server{Transport: HTTPS, Addr: "https://dns.example:8443/q", Name: "dns.example"}, ""},
		{"@", Server{}, "empty server"},
		{"quic://dns.example", Server{Transport: QUIC, Addr: "dns.example:853", Name: "dns.example"}, ""},
		{"ftp://x", Server{}, `unknown scheme "ftp"`},
		{"host:0", Server{}, "from 1 to 65535"},
		{"a b", Server{}, "is not host[:port]"},
	} {
		got, err := ParseServer(tc.in)
		if tc.err != "" {
			if err == nil || !errors.Is(err, ErrBadServer) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseServer(%q) = %+v, %v; want error mentioning %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseServer(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestShippedData(t *testing.T) {
	rs := ShippedResolvers()
	if len(rs) < 20 {
		t.Errorf("%d shipped resolvers, want at least 20", len(rs))
	}
	for _, r := range rs {
		if r.Operator == "" || len(r.IPv4) == 0 || r.Location == nil || (r.Location.Lat == 0 && r.Location.Lon == 0) {
			t.Errorf("resolver %+v lacks operator, IPv4 or location", r)
		}
	}
	srv, err := ResolveServer("@tls://quad9")
	// The entry's own address (no lookup), verified against the DoT name.
	if err != nil || srv.Transport != TLS || srv.Addr != "9.9.9.9:853" || srv.TLSName != "dns.quad9.net" {
		t.Errorf("@tls://quad9 = %+v, %v", srv, err)
	}
	if roots := RootHints(); len(roots) != 13 || len(roots[0].Addrs) != 2 {
		t.Errorf("root hints: %d servers, first %+v; want 13 with v4 and v6", len(roots), roots[0])
	}
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"example.com", "bücher.de", "a..b", "\\000.x", "xn--zz", strings.Repeat("a.", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := NormalizeName(s)
		if err != nil {
			return
		}
		if m, err := (Query{Name: name}).Msg(1); err != nil {
			t.Fatal(err)
		} else if _, err := m.Pack(); err != nil {
			t.Fatalf("accepted %q (as %q) but it does not pack: %v", s, name, err)
		}
	})
}
