package dnsq

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Style holds dig's record layout options.
type Style struct {
	TTLUnits  bool // +ttlunits: TTLs as 1h, 1d1h1m1s
	Multiline bool // +multi: BIND's multi-line columns, long data split over lines with comments (multiline.go)
}

// RR renders a record as dig does with the style's options.
func (s Style) RR(rr dns.RR) string { return string(s.AppendRR(nil, rr)) }

// AppendRR appends the record's line (without a newline) to b; printing a
// large zone transfer goes through here, so the common cases allocate
// nothing.
func (s Style) AppendRR(b []byte, rr dns.RR) []byte {
	h := rr.Header()
	start := len(b)
	b = appendName(b, h.Name)
	col := len(b) - start
	stops := [4]int{24, 32, 40, 48}
	if s.Multiline {
		stops = [4]int{24, 24, 24, 32}
	}
	b, col = appendIndent(b, col, stops[0])
	n := len(b)
	if s.TTLUnits {
		b = append(b, TTLUnits(h.Ttl)...)
	} else {
		b = strconv.AppendUint(b, uint64(h.Ttl), 10)
	}
	col += len(b) - n
	for i, f := range []string{ClassString(h.Class), TypeString(h.Rrtype)} {
		b, col = appendIndent(b, col, stops[i+1])
		b = append(b, f...)
		col += len(f)
	}
	b, _ = appendIndent(b, col, stops[3])
	return appendRData(b, rr, s.Multiline)
}

// appendIndent moves from column col to stop as BIND's indent() does (see
// line.field) and returns the new column.
func appendIndent(b []byte, col, stop int) ([]byte, int) {
	to := max(stop, col+1)
	if tabs := to/8 - col/8; tabs > 0 {
		for range tabs {
			b = append(b, '\t')
		}
		for range to % 8 {
			b = append(b, ' ')
		}
	} else {
		for range to - col {
			b = append(b, ' ')
		}
	}
	return b, to
}

// appendName appends a name in BIND's presentation; a name with no escape
// and no byte BIND escapes differently from the wire library is copied.
func appendName(b []byte, name string) []byte {
	if strings.ContainsAny(name, "\\$") {
		return append(b, PresentName(name)...)
	}
	return append(b, name...)
}

func appendRData(b []byte, rr dns.RR, multi bool) []byte {
	switch v := rr.(type) {
	case *dns.A:
		if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
			return a.AppendTo(b)
		}
	case *dns.AAAA:
		if a, ok := netip.AddrFromSlice(v.AAAA); ok && len(v.AAAA) == 16 {
			return a.AppendTo(b)
		}
	case *dns.NS:
		return appendName(b, v.Ns)
	case *dns.CNAME:
		return appendName(b, v.Target)
	}
	if multi {
		if s, ok := multiRData(rr); ok {
			return append(b, s...)
		}
	}
	return append(b, RData(rr)...)
}

// Question renders a question line as dig does with the style's options.
func (s Style) Question(q dns.Question) string {
	if !s.Multiline {
		return QuestionString(q)
	}
	var l line
	l.b.WriteByte(';')
	l.field(PresentName(q.Name), 0)
	l.field(ClassString(q.Qclass), 24)
	l.field(TypeString(q.Qtype), 24)
	return l.String()
}

type ttlUnit struct {
	secs uint32
	name string
}

var ttlUnits = []ttlUnit{{604800, "week"}, {86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}}

// TTLUnits renders a TTL as BIND does for +ttlunits: 1w2d3h4m5s, zero
// units left out, 0s for zero.
func TTLUnits(ttl uint32) string {
	var b strings.Builder
	for _, u := range ttlUnits {
		if n := ttl / u.secs; n > 0 || (u.secs == 1 && b.Len() == 0) {
			b.WriteString(strconv.FormatUint(uint64(n), 10) + u.name[:1])
		}
		ttl %= u.secs
	}
	return b.String()
}

// TTLWords renders a duration as BIND's comments do: "1 day 2 hours".
func TTLWords(ttl uint32) string {
	var parts []string
	for _, u := range ttlUnits {
		n := ttl / u.secs
		ttl %= u.secs
		if n == 0 && !(u.secs == 1 && len(parts) == 0) {
			continue
		}
		plural := "s"
		if n == 1 {
			plural = ""
		}
		parts = append(parts, fmt.Sprintf("%d %s%s", n, u.name, plural))
	}
	return strings.Join(parts, " ")
}
