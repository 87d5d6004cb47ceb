package cli

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// renderYAML prints a reply as dig +yaml does: one MESSAGE document with
// the exchange's times, sizes and addresses, and the message's header, OPT
// version, flags and size, and sections, each record a single-quoted line.
func renderYAML(w io.Writer, r *dnsq.Response) {
	m := r.Msg
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	kind := "AUTH_RESPONSE"
	if m.RecursionAvailable {
		kind = "RECURSIVE_RESPONSE"
	}
	const stamp = "2006-01-02T15:04:05.000Z"
	host, port, _ := net.SplitHostPort(r.Remote)
	family, unspec := "INET", "0.0.0.0"
	if strings.Contains(host, ":") {
		family, unspec = "INET6", "::"
	}
	proto := "UDP"
	if r.Transport != dnsq.UDP {
		proto = "TCP"
	}
	p("- type: MESSAGE\n  message:\n    type: %s\n", kind)
	p("    query_time: !!timestamp %s\n", r.When.UTC().Format(stamp))
	p("    response_time: !!timestamp %s\n", r.When.Add(r.RTT).UTC().Format(stamp))
	p("    message_size: %db\n    socket_family: %s\n    socket_protocol: %s\n", r.RecvSize, family, proto)
	p("    response_address: %q\n    response_port: %s\n", host, port)
	p("    query_address: %q\n    query_port: 0\n", unspec)
	p("    response_message_data:\n")
	p("      opcode: %s\n      status: %s\n      id: %d\n", dns.OpcodeToString[m.Opcode], dnsq.RcodeString(m.Rcode), m.Id)
	p("      flags: %s\n", strings.Join(dnsq.Flags(m), " "))
	p("      QUESTION: %d\n      ANSWER: %d\n      AUTHORITY: %d\n      ADDITIONAL: %d\n", len(m.Question), len(m.Answer), len(m.Ns), len(m.Extra))
	if opt := m.IsEdns0(); opt != nil {
		flags := ""
		if opt.Do() {
			flags = " do"
		}
		p("      OPT_PSEUDOSECTION:\n        EDNS:\n          version: %d\n          flags:%s\n          udp: %d\n", opt.Version(), flags, opt.UDPSize())
	}
	if len(m.Question) > 0 {
		p("      QUESTION_SECTION:\n")
		for _, q := range m.Question {
			p("        - %s\n", yamlQuote(dnsq.PresentName(q.Name)+" "+dnsq.ClassString(q.Qclass)+" "+dnsq.TypeString(q.Qtype)))
		}
	}
	for _, s := range []struct {
		name string
		rrs  []dns.RR
	}{{"ANSWER", m.Answer}, {"AUTHORITY", m.Ns}, {"ADDITIONAL", dnsq.WithoutOPT(m.Extra)}} {
		if len(s.rrs) == 0 {
			continue
		}
		p("      %s_SECTION:\n", s.name)
		for _, rr := range s.rrs {
			h := rr.Header()
			line := dnsq.PresentName(h.Name) + " " + strconv.FormatUint(uint64(h.Ttl), 10) + " " +
				dnsq.ClassString(h.Class) + " " + dnsq.TypeString(h.Rrtype) + " " + dnsq.RData(rr)
			p("        - %s\n", yamlQuote(line))
		}
	}
}

// yamlQuote is YAML's single-quoted scalar: quotes doubled.
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
