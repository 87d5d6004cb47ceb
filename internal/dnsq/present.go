package dnsq

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// This file renders records exactly as dig (BIND 9) does, so that
// `dnsscience dig --short` and the JSON "data" field match dig +short
// byte for byte: hex and base64 fields upper-cased where BIND does and split
// into 56-character chunks, SVCB parameters quoted only where BIND quotes.

const chunk = 56

// RData is the presentation form of rr's data alone, as dig +short prints it.
func RData(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.DS:
		return join(u16(v.KeyTag), u8(v.Algorithm), u8(v.DigestType), split(strings.ToUpper(v.Digest)))
	case *dns.CDS:
		return RData(&v.DS)
	case *dns.TLSA:
		return join(u8(v.Usage), u8(v.Selector), u8(v.MatchingType), split(strings.ToUpper(v.Certificate)))
	case *dns.SMIMEA:
		return join(u8(v.Usage), u8(v.Selector), u8(v.MatchingType), split(strings.ToUpper(v.Certificate)))
	case *dns.SSHFP:
		return join(u8(v.Algorithm), u8(v.Type), split(strings.ToUpper(v.FingerPrint)))
	case *dns.DNSKEY:
		return join(u16(v.Flags), u8(v.Protocol), u8(v.Algorithm), split(v.PublicKey))
	case *dns.CDNSKEY:
		return RData(&v.DNSKEY)
	case *dns.RRSIG:
		return join(dns.Type(v.TypeCovered).String(), u8(v.Algorithm), u8(v.Labels), strconv.FormatUint(uint64(v.OrigTtl), 10),
			dns.TimeToString(v.Expiration), dns.TimeToString(v.Inception), u16(v.KeyTag), v.SignerName, split(v.Signature))
	case *dns.SVCB:
		return svcb(v.Priority, v.Target, v.Value)
	case *dns.HTTPS:
		return svcb(v.Priority, v.Target, v.Value)
	case *dns.RFC3597:
		return Unknown(v.Rdata)
	case *dns.LOC:
		return loc(v)
	}
	if s, ok := nameRData(rr); ok {
		return s
	}
	s := rr.String()
	if h := rr.Header().String(); strings.HasPrefix(s, h) {
		return s[len(h):]
	}
	return s
}

// Unknown renders RDATA in the RFC 3597 generic form as BIND does:
// "\# length" and the data in upper-case hex, in 56-character chunks.
func Unknown(hexData string) string {
	out := `\# ` + strconv.Itoa(len(hexData)/2)
	if hexData != "" {
		out += " " + split(strings.ToUpper(hexData))
	}
	return out
}

// nameRData renders the types whose RDATA holds domain names with the names
// in BIND's presentation (PresentName).
func nameRData(rr dns.RR) (string, bool) {
	switch v := rr.(type) {
	case *dns.NS:
		return PresentName(v.Ns), true
	case *dns.CNAME:
		return PresentName(v.Target), true
	case *dns.DNAME:
		return PresentName(v.Target), true
	case *dns.PTR:
		return PresentName(v.Ptr), true
	case *dns.MX:
		return join(u16(v.Preference), PresentName(v.Mx)), true
	case *dns.SRV:
		return join(u16(v.Priority), u16(v.Weight), u16(v.Port), PresentName(v.Target)), true
	case *dns.SOA:
		return join(PresentName(v.Ns), PresentName(v.Mbox), u32(v.Serial), u32(v.Refresh), u32(v.Retry),
			u32(v.Expire), u32(v.Minttl)), true
	}
	return "", false
}

// loc renders a LOC record (RFC 1876) as BIND does: degrees and minutes
// without padding, seconds with three decimals, altitude in metres with two,
// and sizes in whole metres from 1 m up (0.NNm below).
func loc(v *dns.LOC) string {
	lat, ns := hemisphere(v.Latitude, "N", "S")
	lon, ew := hemisphere(v.Longitude, "E", "W")
	alt, sign := int64(v.Altitude)-10000000, ""
	if alt < 0 {
		alt, sign = -alt, "-"
	}
	return fmt.Sprintf("%s %s %s %s %s%d.%02dm %s %s %s", dms(lat), ns, dms(lon), ew,
		sign, alt/100, alt%100, locSize(v.Size), locSize(v.HorizPre), locSize(v.VertPre))
}

func hemisphere(x uint32, pos, neg string) (uint32, string) {
	if x >= 1<<31 {
		return x - 1<<31, pos
	}
	return 1<<31 - x, neg
}

// dms renders thousandths of arc seconds as "D M S.sss".
func dms(x uint32) string {
	ms := x % 1000
	x /= 1000
	return fmt.Sprintf("%d %d %d.%03d", x/3600, x/60%60, x%60, ms)
}

// locSize renders a LOC size byte (mantissa and power of ten, centimetres).
func locSize(b uint8) string {
	mant, exp := uint64(b>>4), int(b&0x0f)
	if exp > 1 {
		return strconv.FormatUint(mant*pow10(exp-2), 10) + "m"
	}
	return fmt.Sprintf("0.%02dm", mant*pow10(exp))
}

func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// RRString renders a whole record as a line of dig output: owner, TTL,
// class, type and data at BIND's tab stops.
func RRString(rr dns.RR) string { return Style{}.RR(rr) }

// QuestionString renders a question as dig's question section does:
// ";name", class and type at BIND's stops. The ";" is not counted in the
// column, as in BIND.
func QuestionString(q dns.Question) string {
	var l line
	l.b.WriteByte(';')
	l.field(PresentName(q.Name), 0)
	l.field(ClassString(q.Qclass), 32)
	l.field(TypeString(q.Qtype), 40)
	return l.String()
}

// Columns lays out the owner, TTL, class and type of a record line at BIND's
// stops (24, 32, 40), ready for the data at 48.
func Columns(owner, ttl, class, typ string) string {
	var l line
	l.field(owner, 0)
	l.field(ttl, 24)
	l.field(class, 32)
	l.field(typ, 40)
	l.field("", 48)
	return l.String()
}

// line lays out fields at tab stops exactly as BIND's masterdump indent():
// a field starts at its stop, or one column after the previous field when
// that already reached the stop; tabs are used whenever a tab boundary is
// crossed.
type line struct {
	b   strings.Builder
	col int
}

func (l *line) field(s string, stop int) {
	if l.col > 0 || stop > 0 {
		to := max(stop, l.col+1)
		if tabs := to/8 - l.col/8; tabs > 0 {
			l.b.WriteString(strings.Repeat("\t", tabs))
			l.b.WriteString(strings.Repeat(" ", to%8))
		} else {
			l.b.WriteString(strings.Repeat(" ", to-l.col))
		}
		l.col = to
	}
	l.b.WriteString(s)
	l.col += len(s)
}

func (l *line) String() string { return l.b.String() }

func svcb(prio uint16, target string, kvs []dns.SVCBKeyValue) string {
	parts := []string{u16(prio), target}
	for _, kv := range kvs {
		key, val := kv.Key().String(), kv.String()
		switch kv.Key() {
		case dns.SVCB_NO_DEFAULT_ALPN:
			parts = append(parts, key)
		case dns.SVCB_ALPN, dns.SVCB_DOHPATH:
			parts = append(parts, key+"="+strconv.Quote(val))
		case dns.SVCB_MANDATORY, dns.SVCB_PORT, dns.SVCB_IPV4HINT, dns.SVCB_IPV6HINT, dns.SVCB_ECHCONFIG:
			parts = append(parts, key+"="+val)
		default:
			parts = append(parts, key+"="+strconv.Quote(val))
		}
	}
	return strings.Join(parts, " ")
}

// split breaks a long hex or base64 string into 56-character chunks.
func split(s string) string {
	if len(s) <= chunk {
		return s
	}
	var parts []string
	for len(s) > chunk {
		parts = append(parts, s[:chunk])
		s = s[chunk:]
	}
	return strings.Join(append(parts, s), " ")
}

func join(parts ...string) string { return strings.Join(parts, " ") }
func u8(n uint8) string           { return strconv.FormatUint(uint64(n), 10) }
func u16(n uint16) string         { return strconv.FormatUint(uint64(n), 10) }
func u32(n uint32) string         { return strconv.FormatUint(uint64(n), 10) }
