package dnsq

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// This file holds the one comparison and the one presentation of domain
// names: names arrive in presentation form with any escapes (a\032b,
// \105nside, q\"x) from users and from the wire library, and two spellings
// of one name must compare equal and print as BIND prints them.

// wireName packs a presentation name into its wire form; ok is false when it
// does not pack.
func wireName(name string, buf []byte) ([]byte, bool) {
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return nil, false
	}
	return buf[:n], true
}

// SameName reports whether a and b are the same domain name: the same labels
// on the wire, ASCII letters compared without case (RFC 4343), whatever
// escapes either spelling uses.
func SameName(a, b string) bool {
	var ba, bb [256]byte
	wa, okA := wireName(a, ba[:])
	wb, okB := wireName(b, bb[:])
	if !okA || !okB {
		return okA == okB && strings.EqualFold(a, b)
	}
	if len(wa) != len(wb) {
		return false
	}
	for i := range wa {
		if lower(wa[i]) != lower(wb[i]) {
			return false
		}
	}
	return true
}

// PresentName renders a name as BIND (dig) does: the label bytes ", (, ), .,
// ;, \, @ and $ escaped with a backslash, bytes outside printable ASCII and
// the space as \DDD, every other byte as it is; the root is ".".
func PresentName(name string) string {
	var buf [256]byte
	wire, ok := wireName(name, buf[:])
	if !ok {
		return name
	}
	if len(wire) == 1 {
		return "."
	}
	var b strings.Builder
	for i := 0; i < len(wire) && wire[i] != 0; {
		n := int(wire[i])
		for _, c := range wire[i+1 : i+1+n] {
			switch {
			case c == '"' || c == '(' || c == ')' || c == '.' || c == ';' || c == '\\' || c == '@' || c == '$':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c <= ' ' || c >= 0x7f:
				b.WriteByte('\\')
				s := strconv.Itoa(int(c))
				b.WriteString(strings.Repeat("0", 3-len(s)) + s)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('.')
		i += n + 1
	}
	return b.String()
}
