package dnsq

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Style holds dig's record layout options.
type Style struct {
	TTLUnits  bool // +ttlunits: TTLs as 1h, 1d1h1m1s
	Multiline bool // +multi: BIND's multi-line columns, SOA fields one per line with comments
}

// RR renders a record as dig does with the style's options.
func (s Style) RR(rr dns.RR) string {
	h := rr.Header()
	ttl := strconv.FormatUint(uint64(h.Ttl), 10)
	if s.TTLUnits {
		ttl = TTLUnits(h.Ttl)
	}
	if !s.Multiline {
		return Columns(PresentName(h.Name), ttl, ClassString(h.Class), TypeString(h.Rrtype)) + RData(rr)
	}
	// BIND's multi-line style: TTL, class and type from column 24, data 32.
	var l line
	l.field(PresentName(h.Name), 0)
	l.field(ttl, 24)
	l.field(ClassString(h.Class), 24)
	l.field(TypeString(h.Rrtype), 24)
	l.field("", 32)
	if soa, ok := rr.(*dns.SOA); ok {
		return l.String() + multiSOA(soa)
	}
	return l.String() + RData(rr)
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

// multiSOA lays the SOA out over lines as dig +multi does.
func multiSOA(v *dns.SOA) string {
	const indent = "\t\t\t\t"
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (\n", PresentName(v.Ns), PresentName(v.Mbox))
	fmt.Fprintf(&b, "%s%-10d ; serial\n", indent, v.Serial)
	for _, f := range []struct {
		v    uint32
		name string
	}{{v.Refresh, "refresh"}, {v.Retry, "retry"}, {v.Expire, "expire"}, {v.Minttl, "minimum"}} {
		fmt.Fprintf(&b, "%s%-10d ; %s (%s)\n", indent, f.v, f.name, TTLWords(f.v))
	}
	b.WriteString(indent + ")")
	return b.String()
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
