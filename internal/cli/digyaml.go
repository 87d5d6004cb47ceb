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

// renderYAML prints an exchange as dig +yaml does: with qr the query sent
// first (a RECURSIVE_QUERY or AUTH_QUERY document), then the reply: one
// MESSAGE document each with the exchange's times, sizes and addresses, and
// the message's header, OPT pseudosection (version, flags, size and every
// option as dig names it), sections, each record a single-quoted line, and
// the TSIG pseudosection.
func renderYAML(w io.Writer, r *dnsq.Response, qr bool) {
	if qr && r.Query != nil {
		kind := "AUTH_QUERY"
		if r.Query.RecursionDesired {
			kind = "RECURSIVE_QUERY"
		}
		yamlMessage(w, r, r.Query, kind, r.SentSize, false)
	}
	kind := "AUTH_RESPONSE"
	if r.Msg.RecursionAvailable {
		kind = "RECURSIVE_RESPONSE"
	}
	yamlMessage(w, r, r.Msg, kind, r.RecvSize, true)
}

func yamlMessage(w io.Writer, r *dnsq.Response, m *dns.Msg, kind string, size int, response bool) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
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
	if response {
		p("    response_time: !!timestamp %s\n", r.When.Add(r.RTT).UTC().Format(stamp))
	}
	p("    message_size: %db\n    socket_family: %s\n    socket_protocol: %s\n", size, family, proto)
	p("    response_address: %q\n    response_port: %s\n", host, port)
	p("    query_address: %q\n    query_port: 0\n", unspec)
	if response {
		p("    response_message_data:\n")
	} else {
		p("    query_message_data:\n")
	}
	p("      opcode: %s\n      status: %s\n      id: %d\n", dns.OpcodeToString[m.Opcode], dnsq.RcodeString(m.Rcode), m.Id)
	p("      flags:%s\n", prefixSpace(strings.Join(dnsq.Flags(m), " ")))
	p("      QUESTION: %d\n      ANSWER: %d\n      AUTHORITY: %d\n      ADDITIONAL: %d\n", len(m.Question), len(m.Answer), len(m.Ns), len(m.Extra))
	if opt := m.IsEdns0(); opt != nil {
		yamlOPT(w, opt)
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
			p("        - %s\n", yamlQuote(yamlRR(rr)))
		}
	}
	if t := m.IsTsig(); t != nil {
		// dig puts this list one level less indented than the sections', and
		// ends it with an empty line.
		line := dnsq.PresentName(t.Hdr.Name) + " 0 ANY TSIG " + strings.TrimPrefix(dnsq.TSIGString(t), dnsq.Columns(dnsq.PresentName(t.Hdr.Name), "0", "ANY", "TSIG"))
		p("      TSIG_PSEUDOSECTION:\n      - %s\n\n", yamlQuote(line))
	}
}

// yamlOPT prints the OPT pseudosection: version, flags, size, then each
// option; an extended error is a block of INFO-CODE and EXTRA-TEXT followed
// by an empty line, as dig prints it.
func yamlOPT(w io.Writer, opt *dns.OPT) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	flags := ""
	if opt.Do() {
		flags = " do"
	}
	p("      OPT_PSEUDOSECTION:\n        EDNS:\n          version: %d\n          flags:%s\n          udp: %d\n", opt.Version(), flags, opt.UDPSize())
	for _, o := range ednsOptions(opt) {
		if o.ede == nil {
			p("          %s:%s\n", o.yaml, prefixSpace(o.value))
			continue
		}
		p("          EDE:\n            INFO-CODE: %s\n", o.value)
		if o.ede.ExtraText != "" {
			p("            EXTRA-TEXT: %q\n", o.ede.ExtraText)
		}
		p("\n")
	}
}

// yamlRR is a record on one line with single spaces, as dig +yaml prints it.
func yamlRR(rr dns.RR) string {
	h := rr.Header()
	return dnsq.PresentName(h.Name) + " " + strconv.FormatUint(uint64(h.Ttl), 10) + " " +
		dnsq.ClassString(h.Class) + " " + dnsq.TypeString(h.Rrtype) + " " + dnsq.RData(rr)
}

// yamlQuote is YAML's single-quoted scalar: quotes doubled.
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// prefixSpace is s after a space, or nothing for an empty s.
func prefixSpace(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}
