package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// digDisplay is what dig's display options (+[no]all, +[no]cmd,
// +[no]comments, +[no]question, +[no]answer, +[no]authority,
// +[no]additional, +[no]stats, +qr, +ttlunits, +multi) leave in the output.
type digDisplay struct {
	cmd, comments, question, answer, authority, additional, stats bool
	qr, yaml                                                      bool
	style                                                         dnsq.Style
}

func defaultDisplay() digDisplay {
	return digDisplay{cmd: true, comments: true, question: true, answer: true, authority: true, additional: true, stats: true}
}

// set applies one display option; ok is false when name is not one.
func (d *digDisplay) set(name string, on bool) bool {
	switch name {
	case "all":
		d.cmd, d.comments, d.question, d.answer, d.authority, d.additional, d.stats = on, on, on, on, on, on, on
	case "cmd":
		d.cmd = on
	case "comments":
		d.comments = on
	case "question":
		d.question = on
	case "answer":
		d.answer = on
	case "authority":
		d.authority = on
	case "additional":
		d.additional = on
	case "stats":
		d.stats = on
	case "qr":
		d.qr = on
	case "yaml":
		d.yaml = on
	case "ttlunits":
		d.style.TTLUnits = on
	case "multi", "multiline":
		d.style.Multiline = on
	default:
		return false
	}
	return true
}

// renderBanner prints dig's first lines (+cmd): the command echoed, the
// server count when one was named, and the global options.
func renderBanner(w io.Writer, p *digPlan) {
	fmt.Fprintf(w, "\n; <<>> dnsscience %s <<>> %s\n", Version, strings.Join(digEcho(p), " "))
	if p.args.server != "" {
		fmt.Fprintln(w, "; (1 server found)")
	}
	fmt.Fprintln(w, ";; global options: +cmd")
}

// renderDig prints a reply as dig does with display d: the query sent
// (+qr), header and OPT pseudosection (comments), the sections asked for,
// and the statistics.
func renderDig(w io.Writer, r *dnsq.Response, d digDisplay) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	if d.qr && r.Query != nil {
		p(";; Sending:\n")
		renderMessage(w, r.Query, d, false)
		p("\n;; QUERY SIZE: %d\n\n", r.SentSize)
	}
	if d.comments {
		p(";; Got answer:\n")
	}
	renderMessage(w, r.Msg, d, r.NoEDNSRetry)
	if d.comments {
		p("\n")
	}
	if d.stats {
		p(";; Query time: %d msec\n", r.RTT.Milliseconds())
		p(";; SERVER: %s(%s) (%s)\n", serverAddr(r), serverLabel(r.Server), strings.ToUpper(string(r.Transport)))
		p(";; WHEN: %s\n", r.When.Format("Mon Jan 02 15:04:05 MST 2006"))
		p(";; MSG SIZE  rcvd: %d\n\n", r.RecvSize)
	}
}

// renderMessage prints a message's header, pseudosections and sections.
func renderMessage(w io.Writer, m *dns.Msg, d digDisplay, noEDNSRetry bool) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	if d.comments {
		p(";; ->>HEADER<<- opcode: %s, status: %s, id: %d\n", dns.OpcodeToString[m.Opcode], dnsq.RcodeString(m.Rcode), m.Id)
		p(";; flags: %s; QUERY: %d, ANSWER: %d, AUTHORITY: %d, ADDITIONAL: %d\n",
			strings.Join(dnsq.Flags(m), " "), len(m.Question), len(m.Answer), len(m.Ns), len(m.Extra))
		if m.Response && m.RecursionDesired && !m.RecursionAvailable {
			p(";; WARNING: recursion requested but not available\n")
		}
		p("\n")
		if noEDNSRetry {
			p(";; WARNING: EDNS query returned status FORMERR - retried with '+noedns'\n\n")
		}
		if opt := m.IsEdns0(); opt != nil {
			renderOPT(w, opt)
		}
	}
	if d.question {
		if d.comments {
			p(";; QUESTION SECTION:\n")
		}
		for _, q := range m.Question {
			p("%s\n", d.style.Question(q))
		}
	}
	for _, s := range []struct {
		on   bool
		name string
		rrs  []dns.RR
	}{{d.answer, "ANSWER", m.Answer}, {d.authority, "AUTHORITY", m.Ns}, {d.additional, "ADDITIONAL", dnsq.WithoutOPT(m.Extra)}} {
		if s.on && len(s.rrs) > 0 {
			renderSection(w, s.name, s.rrs, d)
		}
	}
	if t := m.IsTsig(); t != nil && d.additional {
		if d.comments {
			p("\n;; TSIG PSEUDOSECTION:\n")
		}
		p("%s\n", dnsq.TSIGString(t))
	}
}

func renderSection(w io.Writer, name string, rrs []dns.RR, d digDisplay) {
	if d.comments {
		fmt.Fprintf(w, "\n;; %s SECTION:\n", name)
	}
	for _, rr := range rrs {
		fmt.Fprintln(w, d.style.RR(rr))
	}
}
