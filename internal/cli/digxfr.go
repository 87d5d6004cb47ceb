package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// xfrReply is the JSON form of a zone transfer (docs/JSON.md).
type xfrReply struct {
	Zone     string        `json:"zone"`
	Type     string        `json:"type"`
	Server   string        `json:"server"`
	Remote   string        `json:"remote,omitempty"`
	When     time.Time     `json:"when"`
	TimeMs   float64       `json:"time_ms"`
	Records  []dnsq.Record `json:"records"`
	Messages int           `json:"messages"`
	Bytes    int           `json:"bytes"`
	Error    string        `json:"error,omitempty"`
}

func isTransfer(t uint16) bool { return t == dns.TypeAXFR || t == dns.TypeIXFR }

// runTransfer runs one AXFR or IXFR as dig does: over TCP whatever the
// transport asked for (TLS stays TLS), every record printed as its message
// arrives, then dig's summary with the "XFR size" line. A refused or broken
// transfer prints the reason and fails.
func runTransfer(ctx context.Context, e *env, p *digPlan, q dnsq.Query) error {
	x := dnsq.XFR{Query: q, Serial: p.args.ixfrSerial}
	if e.json {
		return transferJSON(ctx, e, p, x, q)
	}
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	defer w.Flush()
	d := p.args.display
	if !p.args.short && d.cmd {
		renderBanner(w, p)
	}
	res, err := p.client.Transfer(ctx, p.server, x, func(m *dns.Msg) error {
		return writeXFRMessage(w, m, p.args.short, d.style)
	})
	if err != nil {
		fmt.Fprintf(w, "; Transfer failed: %v\n", err)
		return errSilentFail
	}
	if !p.args.short && d.stats {
		fmt.Fprintf(w, ";; Query time: %d msec\n", res.Duration.Milliseconds())
		fmt.Fprintf(w, ";; SERVER: %s(%s) (%s)\n", hashPort(res.Remote), serverLabel(res.Server), transferTransport(res.Server))
		fmt.Fprintf(w, ";; WHEN: %s\n", res.When.Format("Mon Jan 02 15:04:05 MST 2006"))
		fmt.Fprintf(w, ";; XFR size: %d records (messages %d, bytes %d)\n\n", res.Records, res.Messages, res.Bytes)
	}
	return nil
}

func writeXFRMessage(w io.Writer, m *dns.Msg, short bool, style dnsq.Style) error {
	buf := make([]byte, 0, 64*len(m.Answer))
	for _, rr := range m.Answer {
		if short {
			buf = append(buf, dnsq.RData(rr)...)
		} else {
			buf = style.AppendRR(buf, rr)
		}
		buf = append(buf, '\n')
	}
	if t := m.IsTsig(); t != nil && !short {
		buf = append(append(buf, dnsq.TSIGString(t)...), '\n')
	}
	_, err := w.Write(buf)
	return err
}

func transferJSON(ctx context.Context, e *env, p *digPlan, x dnsq.XFR, q dnsq.Query) error {
	out := xfrReply{Zone: dnsq.PresentName(q.Name), Type: dnsq.TypeString(q.Type), Server: p.server.Addr, Records: []dnsq.Record{}}
	res, err := p.client.Transfer(ctx, p.server, x, func(m *dns.Msg) error {
		out.Records = append(out.Records, dnsq.Records(m.Answer)...)
		return nil
	})
	if res != nil {
		out.Remote, out.When, out.TimeMs = res.Remote, res.When.UTC(), dnsq.Millis(res.Duration)
		out.Messages, out.Bytes = res.Messages, res.Bytes
	}
	if err != nil {
		out.Error = err.Error()
	}
	if werr := writeJSON(e.stdout, out); werr != nil {
		return werr
	}
	if err != nil {
		return errSilentFail
	}
	return nil
}

func hashPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host + "#" + port
}

func transferTransport(s dnsq.Server) string {
	if s.Transport == dnsq.TLS {
		return "TLS"
	}
	return "TCP"
}
