package dnsq

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Reply is the documented, stable JSON form of one server's reply (see
// docs/JSON.md). It is what `dnsscience dig --json` prints and what the
// server stores.
type Reply struct {
	Server     string    `json:"server"`                // the server as addressed (host:port or URL)
	ServerName string    `json:"server_name,omitempty"` // the server as named by the user
	Transport  Transport `json:"transport"`             // udp, tcp, tls, https: how the answer came
	When       time.Time `json:"when"`                  // when the query was sent
	RTTMs      float64   `json:"rtt_ms"`                // round-trip time of the answering try
	QuerySize  int       `json:"query_size"`            // bytes sent
	ReplySize  int       `json:"reply_size"`            // bytes received
	Tries      int       `json:"tries"`                 // tries needed
	Truncated  bool      `json:"truncated,omitempty"`   // the UDP answer was truncated
	// NoEDNSRetry: the server answered FORMERR to EDNS, and this is the
	// reply to the query sent again without EDNS.
	NoEDNSRetry bool       `json:"no_edns_retry,omitempty"`
	Header      Header     `json:"header"`
	Question    []Question `json:"question"`
	Answer      []Record   `json:"answer"`
	Authority   []Record   `json:"authority"`
	Additional  []Record   `json:"additional"`
	EDNS        *EDNS      `json:"edns,omitempty"`
	TSIG        *TSIGInfo  `json:"tsig,omitempty"`  // the reply's TSIG (verified, or the exchange fails)
	Error       string     `json:"error,omitempty"` // set when no reply came; the sections are then empty
}

// Header is the reply's header.
type Header struct {
	ID     uint16   `json:"id"`
	Opcode string   `json:"opcode"`
	Rcode  string   `json:"rcode"` // NOERROR, NXDOMAIN, SERVFAIL ...
	Flags  []string `json:"flags"` // qr aa tc rd ra ad cd, in dig's order
}

// Question is one question entry.
type Question struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Class string `json:"class"`
}

// Record is one resource record; Data is its RDATA in presentation format,
// exactly what dig +short prints.
type Record struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Class string `json:"class"`
	TTL   uint32 `json:"ttl"`
	Data  string `json:"data"`
}

// EDNS is the reply's OPT pseudo-record.
type EDNS struct {
	Version       uint8    `json:"version"`
	UDPSize       uint16   `json:"udp_size"`
	DO            bool     `json:"do"`
	NSID          string   `json:"nsid,omitempty"`      // hex
	NSIDText      string   `json:"nsid_text,omitempty"` // printable form
	Cookie        string   `json:"cookie,omitempty"`
	ClientSubnet  string   `json:"client_subnet,omitempty"`
	ExtendedError *EDE     `json:"extended_error,omitempty"`
	Other         []string `json:"other,omitempty"`
}

// TSIGInfo is a reply's TSIG record.
type TSIGInfo struct {
	Key       string `json:"key"`
	Algorithm string `json:"algorithm"`
	Error     string `json:"error"` // NOERROR when the server accepted the key
}

// EDE is an extended DNS error (RFC 8914).
type EDE struct {
	Code uint16 `json:"code"`
	Name string `json:"name,omitempty"`
	Text string `json:"text,omitempty"`
}

// NewReply converts a Response to its JSON form.
func NewReply(r *Response) Reply {
	m := r.Msg
	out := Reply{
		Server: r.Server.Addr, ServerName: r.Server.Name, Transport: r.Transport,
		When: r.When.UTC(), RTTMs: Millis(r.RTT), QuerySize: r.SentSize, ReplySize: r.RecvSize,
		Tries: r.Tries, Truncated: r.Truncated, NoEDNSRetry: r.NoEDNSRetry,
		Header: Header{
			ID: m.Id, Opcode: dns.OpcodeToString[m.Opcode], Rcode: RcodeString(m.Rcode), Flags: Flags(m),
		},
		Question:   make([]Question, 0, len(m.Question)),
		Answer:     Records(m.Answer),
		Authority:  Records(m.Ns),
		Additional: Records(WithoutOPT(m.Extra)),
	}
	for _, q := range m.Question {
		out.Question = append(out.Question, Question{Name: PresentName(q.Name), Type: TypeString(q.Qtype), Class: ClassString(q.Qclass)})
	}
	if opt := m.IsEdns0(); opt != nil {
		out.EDNS = newEDNS(opt)
	}
	if t := m.IsTsig(); t != nil {
		out.TSIG = &TSIGInfo{Key: PresentName(t.Hdr.Name), Algorithm: PresentName(t.Algorithm), Error: RcodeString(int(t.Error))}
	}
	return out
}

// Millis converts a duration to milliseconds with microsecond precision.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// RcodeString names an rcode (NOERROR, NXDOMAIN, RCODE23).
func RcodeString(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

// Flags lists the header flags set in m, in the order dig prints them.
func Flags(m *dns.Msg) []string {
	f := make([]string, 0, 7)
	for _, x := range []struct {
		on   bool
		name string
	}{
		{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"},
		{m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"},
	} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return f
}

// Records converts RRs to their JSON form.
func Records(rrs []dns.RR) []Record {
	out := make([]Record, 0, len(rrs))
	for _, rr := range rrs {
		h := rr.Header()
		out = append(out, Record{
			Name: PresentName(h.Name), Type: TypeString(h.Rrtype), Class: ClassString(h.Class), TTL: h.Ttl, Data: RData(rr),
		})
	}
	return out
}

// WithoutOPT returns rrs less the pseudo-records: EDNS0 OPT and TSIG, which
// dig shows in pseudosections of their own.
func WithoutOPT(rrs []dns.RR) []dns.RR {
	out := rrs[:0:0]
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; t != dns.TypeOPT && t != dns.TypeTSIG {
			out = append(out, rr)
		}
	}
	return out
}

func newEDNS(opt *dns.OPT) *EDNS {
	e := &EDNS{Version: opt.Version(), UDPSize: opt.UDPSize(), DO: opt.Do()}
	for _, o := range opt.Option {
		switch v := o.(type) {
		case *dns.EDNS0_NSID:
			e.NSID = v.Nsid
			if b, err := hex.DecodeString(v.Nsid); err == nil {
				e.NSIDText = printable(b)
			}
		case *dns.EDNS0_COOKIE:
			e.Cookie = v.Cookie
		case *dns.EDNS0_SUBNET:
			e.ClientSubnet = v.String()
		case *dns.EDNS0_EDE:
			e.ExtendedError = &EDE{Code: v.InfoCode, Name: dns.ExtendedErrorCodeToString[v.InfoCode], Text: v.ExtraText}
		default:
			e.Other = append(e.Other, o.String())
		}
	}
	return e
}

func printable(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		} else {
			sb.WriteByte('.')
		}
	}
	return sb.String()
}
