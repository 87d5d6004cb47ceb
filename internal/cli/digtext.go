package cli

import (
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
	for _, o := range opt.Option {
		switch v := o.(type) {
		case *dns.EDNS0_NSID:
			fmt.Fprintf(w, "; NSID: %s\n", nsidText(v.Nsid))
		case *dns.EDNS0_COOKIE:
			fmt.Fprintf(w, "; COOKIE: %s\n", v.Cookie)
		case *dns.EDNS0_SUBNET:
			fmt.Fprintf(w, "; CLIENT-SUBNET: %s/%d/%d\n", v.Address, v.SourceNetmask, v.SourceScope)
		case *dns.EDNS0_EDE:
			fmt.Fprintf(w, "; EDE: %d (%s): (%s)\n", v.InfoCode, dns.ExtendedErrorCodeToString[v.InfoCode], v.ExtraText)
		default:
			fmt.Fprintf(w, "; %s\n", strings.TrimSpace(o.String()))
		}
	}
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
