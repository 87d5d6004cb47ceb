package cli

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseDigArgs(t *testing.T) {
	a, err := parseDigArgs([]string{"MX", "example.com", "@1.1.1.1", "+short", "+dnssec", "+bufsize=4096", "other.org", "AAAA", "CH"})
	if err != nil {
		t.Fatal(err)
	}
	if a.server != "@1.1.1.1" || !a.short || !a.query.DO || a.query.UDPSize != 4096 || a.class != dns.ClassCHAOS {
		t.Errorf("parsed %+v", a)
	}
	if len(a.questions) != 2 || a.questions[0].name != "example.com." || a.questions[0].types[0] != dns.TypeMX ||
		a.questions[1].name != "other.org." || a.questions[1].types[0] != dns.TypeAAAA {
		t.Errorf("questions %+v: want example.com MX then other.org AAAA", a.questions)
	}
	a, _ = parseDigArgs([]string{"+norecurse", "+noedns", "+subnet=203.0.113.7/24", "TYPE65", "x.test"})
	if !a.query.NoRecurse || !a.query.NoEDNS || a.query.ClientSubnet.String() != "203.0.113.0/24" || a.questions[0].types[0] != 65 {
		t.Errorf("parsed %+v", a)
	}
}

// FuzzParseDigArgs checks that any argument list parses or fails cleanly,
// and that every name it accepts is a valid, fully qualified name.
func FuzzParseDigArgs(f *testing.F) {
	for _, s := range []string{"example.com MX", "@1.1.1.1 +short x", "+bufsize=70000", "@ a..b", "-x", "ANY CH", "bücher.de", "+subnet=::1/200"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		a, err := parseDigArgs(strings.Fields(line))
		if err != nil {
			return
		}
		for _, q := range a.questions {
			buf := make([]byte, 512)
			n, err := dns.PackDomainName(q.name, buf, 0, nil, false)
			if err != nil || !dns.IsFqdn(q.name) || n > 255 {
				t.Fatalf("accepted bad name %q from %q: %v", q.name, line, err)
			}
		}
	})
}
