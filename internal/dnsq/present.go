package dnsq

import (
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
	}
	s := rr.String()
	if h := rr.Header().String(); strings.HasPrefix(s, h) {
		return s[len(h):]
	}
	return s
}

// RRString renders a whole record as a line of dig output: owner, TTL,
// class, type and data in BIND's tab-aligned columns.
func RRString(rr dns.RR) string {
	h := rr.Header()
	cols := []string{h.Name, strconv.FormatUint(uint64(h.Ttl), 10), ClassString(h.Class), TypeString(h.Rrtype)}
	return Columns(cols...) + RData(rr)
}

// Columns lays out fields at BIND's tab stops (24, 32, 40, 48): tabs up to
// the next stop, or one space when a field already reaches it.
func Columns(fields ...string) string {
	var b strings.Builder
	col := 0
	for i, f := range fields {
		b.WriteString(f)
		col += len(f)
		stop := 24 + 8*i
		if col >= stop {
			b.WriteByte(' ')
			col++
			continue
		}
		for col < stop {
			b.WriteByte('\t')
			col = (col/8 + 1) * 8
		}
	}
	return b.String()
}

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
