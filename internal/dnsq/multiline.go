package dnsq

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// This file lays record data out over lines as dig +multi does (BIND's
// DNS_STYLEFLAG_MULTILINE with RRCOMMENT): key, signature, digest and
// certificate data in 44-character lines at the data column (80 columns
// less the 32 of the data column, less 2, rounded to whole base64 quads or
// hex bytes), the split part between "(" and ")", and DNSKEY, KEY and DHCID
// with BIND's trailing comments. Types BIND keeps on one line (TXT, SVCB,
// LOC, NSEC, NSEC3PARAM ...) are not here.

const (
	multiBreak = "\n\t\t\t\t" // BIND's linebreak: back to column 32
	multiWidth = 44
)

// multiRData is rr's data laid out as dig +multi prints it, and false for
// the types dig keeps on one line.
func multiRData(rr dns.RR) (string, bool) {
	switch v := rr.(type) {
	case *dns.SOA:
		return multiSOA(v), true
	case *dns.DNSKEY:
		return multiKey(v, true), true
	case *dns.CDNSKEY:
		return multiKey(&v.DNSKEY, true), true
	case *dns.KEY:
		return multiKey(&v.DNSKEY, false), true
	case *dns.RRSIG:
		return multiSig(v), true
	case *dns.SIG:
		return multiSig(&v.RRSIG), true
	case *dns.DS:
		return multiDigest(hexField(v.Digest), u16(v.KeyTag), u8(v.Algorithm), u8(v.DigestType)), true
	case *dns.CDS:
		return multiDigest(hexField(v.Digest), u16(v.KeyTag), u8(v.Algorithm), u8(v.DigestType)), true
	case *dns.DLV:
		return multiDigest(hexField(v.Digest), u16(v.KeyTag), u8(v.Algorithm), u8(v.DigestType)), true
	case *dns.TA:
		return multiDigest(hexField(v.Digest), u16(v.KeyTag), u8(v.Algorithm), u8(v.DigestType)), true
	case *dns.TLSA:
		return multiDigest(hexField(v.Certificate), u8(v.Usage), u8(v.Selector), u8(v.MatchingType)), true
	case *dns.SMIMEA:
		return multiDigest(hexField(v.Certificate), u8(v.Usage), u8(v.Selector), u8(v.MatchingType)), true
	case *dns.SSHFP:
		return multiDigest(hexField(v.FingerPrint), u8(v.Algorithm), u8(v.Type)), true
	case *dns.ZONEMD:
		return multiDigest(hexField(v.Digest), u32(v.Serial), u8(v.Scheme), u8(v.Hash)), true
	case *dns.CERT:
		return multiDigest(chunks(v.Certificate, multiWidth), certType(v.Type), u16(v.KeyTag), SecAlgString(v.Algorithm)), true
	case *dns.NSEC3:
		return multiNSEC3(v), true
	case *dns.RFC3597:
		if v.Rdata == "" {
			return `\# 0`, true
		}
		return `\# ` + strconv.Itoa(len(v.Rdata)/2) + " ( " + hexField(v.Rdata) + " )", true
	case *dns.OPENPGPKEY:
		return "( " + chunks(v.PublicKey, multiWidth) + " )", true
	case *dns.DHCID:
		return multiDHCID(v), true
	case *dns.IPSECKEY:
		return multiIPSECKEY(v), true
	}
	return "", false
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

// chunks splits s into lines of n characters joined by BIND's linebreak.
func chunks(s string, n int) string {
	if len(s) <= n {
		return s
	}
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteString(multiBreak)
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// hexField is hex data upper-cased and split as BIND does.
func hexField(s string) string { return chunks(strings.ToUpper(s), multiWidth) }

// multiDigest is "FIELDS (" and the split data on the next lines, " )" at
// its end: DS, TLSA, SSHFP, ZONEMD and CERT.
func multiDigest(data string, fields ...string) string {
	return strings.Join(fields, " ") + " (" + multiBreak + data + " )"
}

// multiKey lays out DNSKEY, CDNSKEY and KEY: the key on its own lines and
// the closing parenthesis on the next, then BIND's comment (KSK or ZSK for
// zone keys, "revoked" before it when the key is), the algorithm's name and the key tag.
func multiKey(v *dns.DNSKEY, zoneKey bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d %d", v.Flags, v.Protocol, v.Algorithm)
	if v.Flags&0xc000 != 0xc000 { // "no key" flags: BIND prints no key data
		b.WriteString(" (" + multiBreak + chunks(v.PublicKey, multiWidth) + multiBreak + ")")
	}
	if zoneKey {
		b.WriteString(" ; ")
		if v.Flags&dns.REVOKE != 0 {
			b.WriteString("revoked ")
		}
		if v.Flags&dns.SEP != 0 {
			b.WriteString("KSK")
		} else {
			b.WriteString("ZSK")
		}
	}
	fmt.Fprintf(&b, "; alg = %s ; key id = %d", SecAlgString(v.Algorithm), v.KeyTag())
	return b.String()
}

func multiSig(v *dns.RRSIG) string {
	return fmt.Sprintf("%s %d %d %d (%s%s %s %d %s%s%s )", TypeString(v.TypeCovered), v.Algorithm, v.Labels, v.OrigTtl,
		multiBreak, dns.TimeToString(v.Expiration), dns.TimeToString(v.Inception), v.KeyTag, PresentName(v.SignerName),
		multiBreak, chunks(v.Signature, multiWidth))
}

// multiNSEC3 puts the next hashed owner on its own line and each window of
// the type bitmap on a line of its own, as BIND's typemap_totext does.
func multiNSEC3(v *dns.NSEC3) string {
	salt := v.Salt
	if salt == "" {
		salt = "-"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d %d %s (%s%s", v.Hash, v.Flags, v.Iterations, strings.ToUpper(salt), multiBreak, strings.ToUpper(v.NextDomain))
	window := -1
	for _, t := range v.TypeBitMap {
		if w := int(t >> 8); w != window {
			window = w
			b.WriteString(multiBreak)
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(TypeString(t))
	}
	b.WriteString(" )")
	return b.String()
}

// multiDHCID keeps the first line of data beside the parenthesis and adds
// BIND's comment: identifier type, digest type and digest length.
func multiDHCID(v *dns.DHCID) string {
	out := "( " + chunks(v.Digest, multiWidth) + " )"
	if raw, err := base64.StdEncoding.DecodeString(v.Digest); err == nil && len(raw) > 3 {
		out += fmt.Sprintf(" ; %d %d %d", int(raw[0])<<8|int(raw[1]), raw[2], len(raw)-3)
	}
	return out
}

func multiIPSECKEY(v *dns.IPSECKEY) string {
	gw := "."
	switch v.GatewayType {
	case 1, 2:
		gw = v.GatewayAddr.String()
	case 3:
		gw = PresentName(v.GatewayHost)
	}
	out := fmt.Sprintf("( %d %d %d %s", v.Precedence, v.GatewayType, v.Algorithm, gw)
	if v.PublicKey != "" {
		out += multiBreak + chunks(v.PublicKey, multiWidth)
	}
	return out + " )"
}

// certType names a CERT type as BIND does (RFC 4398 mnemonics).
func certType(t uint16) string {
	if s, ok := dns.CertTypeToString[t]; ok {
		return s
	}
	return u16(t)
}

// secAlgNames are BIND's names of DNSSEC algorithms (dns_secalg_totext),
// which differ from the wire library's for 6, 7 and 12.
var secAlgNames = map[uint8]string{
	1: "RSAMD5", 2: "DH", 3: "DSA", 4: "ECC", 5: "RSASHA1", 6: "NSEC3DSA", 7: "NSEC3RSASHA1",
	8: "RSASHA256", 10: "RSASHA512", 12: "ECCGOST", 13: "ECDSAP256SHA256", 14: "ECDSAP384SHA384",
	15: "ED25519", 16: "ED448", 252: "INDIRECT", 253: "PRIVATEDNS", 254: "PRIVATEOID",
}

// SecAlgString names a DNSSEC algorithm as BIND does, the number when it
// has no name.
func SecAlgString(a uint8) string {
	if s, ok := secAlgNames[a]; ok {
		return s
	}
	return u8(a)
}
