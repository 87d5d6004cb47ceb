package cli

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// serverAddr is the answering address as dig prints it (ip#port), also for
// DoH, where dig prints the address it connected to rather than the URL.
func serverAddr(r *dnsq.Response) string {
	if host, port, err := net.SplitHostPort(r.Remote); err == nil {
		return host + "#" + port
	}
	return r.Server.Display()
}

func serverLabel(s dnsq.Server) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Addr
}

func renderOPT(w io.Writer, opt *dns.OPT) {
	flags := ""
	if opt.Do() {
		flags = " do"
	}
	fmt.Fprintf(w, ";; OPT PSEUDOSECTION:\n; EDNS: version: %d, flags:%s; udp: %d\n", opt.Version(), flags, opt.UDPSize())
	for _, o := range ednsOptions(opt) {
		switch {
		case o.ede != nil && o.ede.ExtraText != "":
			fmt.Fprintf(w, "; EDE: %s: (%s)\n", o.value, o.ede.ExtraText)
		case o.text == "":
			fmt.Fprintf(w, "; %s\n", o.value)
		default:
			fmt.Fprintf(w, "; %s:%s\n", o.text, prefixSpace(o.value))
		}
	}
}

// ednsOption is one EDNS option as dig names and renders it: text is the
// name in dig's text output, yaml in +yaml (they differ for TCP
// KEEPALIVE), ede is set for extended errors (a block of their own in YAML).
type ednsOption struct {
	text, yaml, value string
	ede               *dns.EDNS0_EDE
}

// ednsOptions renders opt's options as dig does: NSID in hex and text,
// EXPIRE with its duration in words, EDE with the code's name, unknown
// options as OPT=CODE with hex and text.
func ednsOptions(opt *dns.OPT) []ednsOption {
	out := make([]ednsOption, 0, len(opt.Option))
	for _, o := range typedOptions(opt) {
		e := ednsOption{}
		switch v := o.(type) {
		case *dns.EDNS0_NSID:
			e.text, e.value = "NSID", nsidText(v.Nsid)
		case *dns.EDNS0_COOKIE:
			e.text, e.value = "COOKIE", v.Cookie
		case *dns.EDNS0_SUBNET:
			e.text, e.value = "CLIENT-SUBNET", fmt.Sprintf("%s/%d/%d", v.Address, v.SourceNetmask, v.SourceScope)
		case *dns.EDNS0_EXPIRE:
			e.text = "EXPIRE"
			if !v.Empty {
				e.value = fmt.Sprintf("%d (%s)", v.Expire, dnsq.TTLWords(v.Expire))
			}
		case *dns.EDNS0_TCP_KEEPALIVE:
			e.text, e.yaml, e.value = "TCP KEEPALIVE", "TCP-KEEPALIVE", fmt.Sprintf("%d.%d secs", v.Timeout/10, v.Timeout%10)
		case *dns.EDNS0_EDE:
			e.text, e.ede, e.value = "EDE", v, fmt.Sprintf("%d (%s)", v.InfoCode, dns.ExtendedErrorCodeToString[v.InfoCode])
		case *dns.EDNS0_LOCAL:
			e.text, e.value = fmt.Sprintf("OPT=%d", v.Code), nsidText(hex.EncodeToString(v.Data))
		default: // the wire library's own form, as before dig parity reached it
			e.yaml, e.value = fmt.Sprintf("OPT=%d", o.Option()), strings.TrimSpace(o.String())
		}
		if e.yaml == "" {
			e.yaml = e.text
		}
		out = append(out, e)
	}
	return out
}

// nsidText renders an NSID as dig does: hex bytes, then the printable form.
func nsidText(hexID string) string {
	var parts []string
	var text strings.Builder
	for i := 0; i+1 < len(hexID); i += 2 {
		parts = append(parts, hexID[i:i+2])
		var b byte
		fmt.Sscanf(hexID[i:i+2], "%02x", &b)
		if b >= 0x20 && b < 0x7f {
			text.WriteByte(b)
		} else {
			text.WriteByte('.')
		}
	}
	return fmt.Sprintf("%s (\"%s\")", strings.Join(parts, " "), text.String())
}

// renderShort prints the answer's RDATA one per line, as dig +short does.
func renderShort(w io.Writer, r *dnsq.Response) {
	for _, rr := range r.Msg.Answer {
		fmt.Fprintln(w, dnsq.RData(rr))
	}
}

// typedOptions is opt's options with raw ones of a known code (a query's
// +ednsopt=expire) read as that option, as a reply's are.
func typedOptions(opt *dns.OPT) []dns.EDNS0 {
	raw := false
	for _, o := range opt.Option {
		if _, ok := o.(*dns.EDNS0_LOCAL); ok {
			raw = true
		}
	}
	if !raw {
		return opt.Option
	}
	m := &dns.Msg{Extra: []dns.RR{opt}}
	wire, err := m.Pack()
	if err != nil {
		return opt.Option
	}
	var back dns.Msg
	if err := back.Unpack(wire); err != nil || back.IsEdns0() == nil {
		return opt.Option
	}
	return back.IsEdns0().Option
}
