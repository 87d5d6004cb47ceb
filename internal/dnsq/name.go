package dnsq

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"
)

// ErrBadName is wrapped by every name validation error.
var ErrBadName = errors.New("bad domain name")

// idnaProfile converts user input to the ASCII (A-label) form, as browsers
// and dig (with IDN support) do, without rejecting names such as "_dmarc".
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false))

// NormalizeName validates a user-supplied domain name and returns it fully
// qualified, converted to ASCII when it holds non-ASCII labels. The errors
// name the exact problem: an empty label, a label over 63 bytes, a name over
// 255 bytes, or a character that cannot appear in a name.
func NormalizeName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty name", ErrBadName)
	}
	if name == "." {
		return ".", nil
	}
	ascii := name
	if !isASCII(name) {
		a, err := idnaProfile.ToASCII(strings.TrimSuffix(name, "."))
		if err != nil {
			return "", fmt.Errorf("%w: %q is not a valid internationalised name: %v", ErrBadName, name, err)
		}
		ascii = a
	}
	fq := dns.Fqdn(ascii)
	if !dns.IsFqdn(fq) { // a trailing backslash escapes the final dot
		return "", fmt.Errorf("%w: %q ends in an unfinished escape (backslash)", ErrBadName, name)
	}
	if !strings.Contains(fq, "\\") {
		if err := checkLabels(name, fq); err != nil {
			return "", err
		}
	}
	buf := make([]byte, 512)
	n, err := dns.PackDomainName(fq, buf, 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("%w: %q cannot be encoded as a DNS name: %v", ErrBadName, name, err)
	}
	if n > 255 {
		return "", fmt.Errorf("%w: name is %d bytes on the wire; a name holds at most 255", ErrBadName, n)
	}
	return fq, nil
}

// checkLabels gives specific errors for empty, long or odd labels of a name
// without escapes.
func checkLabels(name, fq string) error {
	for _, l := range strings.Split(strings.TrimSuffix(fq, "."), ".") {
		if l == "" {
			return fmt.Errorf("%w: %q has an empty label (two dots in a row, or a leading dot)", ErrBadName, name)
		}
		if len(l) > 63 {
			return fmt.Errorf("%w: label %q is %d bytes; a label holds at most 63", ErrBadName, truncate(l, 20), len(l))
		}
		for _, r := range l {
			if r <= ' ' || r == 0x7f {
				return fmt.Errorf("%w: %q contains a space or control character", ErrBadName, name)
			}
		}
	}
	if n := len(fq) + 1; n > 255 {
		return fmt.Errorf("%w: name is %d bytes on the wire; a name holds at most 255", ErrBadName, n)
	}
	return nil
}

// ReverseName returns the in-addr.arpa or ip6.arpa name for an address, as
// dig -x does: an IPv4 address may be partial (10.1 gives 1.10.in-addr.arpa,
// a reverse zone's own name), and an IPv4-mapped IPv6 address stays IPv6
// (its ip6.arpa name), as dig keeps it.
func ReverseName(addr string) (string, error) {
	if ip, err := netip.ParseAddr(addr); err == nil {
		if ip.Is4() {
			return dns.ReverseAddr(ip.String())
		}
		return reverse6(ip), nil
	}
	octets, ok := partialIPv4(addr)
	if !ok {
		return "", fmt.Errorf("%w: -x needs an IPv4 address (or its first 1 to 3 octets) or an IPv6 address, got %q", ErrBadName, addr)
	}
	var b strings.Builder
	for i := len(octets) - 1; i >= 0; i-- {
		b.WriteString(strconv.Itoa(int(octets[i])) + ".")
	}
	return b.String() + "in-addr.arpa.", nil
}

// reverse6 is the ip6.arpa name of ip, nibble by nibble, without unmapping.
func reverse6(ip netip.Addr) string {
	const hexdigits = "0123456789abcdef"
	a := ip.As16()
	var b strings.Builder
	for i := 15; i >= 0; i-- {
		b.WriteByte(hexdigits[a[i]&0x0f])
		b.WriteByte('.')
		b.WriteByte(hexdigits[a[i]>>4])
		b.WriteByte('.')
	}
	return b.String() + "ip6.arpa."
}

// partialIPv4 parses 1 to 4 dotted decimal octets (10, 10.1, 10.1.2).
func partialIPv4(s string) ([]byte, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return nil, false
	}
	out := make([]byte, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil || p == "" || (len(p) > 1 && p[0] == '0') {
			return nil, false
		}
		out = append(out, byte(n))
	}
	return out, true
}

// ParseClientSubnet parses an EDNS client subnet option value as dig's
// +subnet does: an address, a prefix (203.0.113.0/24, 2001:db8::/32), an
// IPv4 prefix with trailing octets left out (10.1/16), or 0, which asks the
// server not to use the client's address (0.0.0.0/0).
func ParseClientSubnet(s string) (netip.Prefix, error) {
	if s == "0" {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	if addr, bits, ok := strings.Cut(s, "/"); ok {
		octets, okAddr := partialIPv4(addr)
		n, err := strconv.Atoi(bits)
		if okAddr && err == nil && n >= 0 && n <= 32 {
			var a4 [4]byte
			copy(a4[:], octets)
			return netip.PrefixFrom(netip.AddrFrom4(a4), n).Masked(), nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("client subnet %q: want 0, an address, or a prefix such as 203.0.113.0/24, 10.1/16 or 2001:db8::/32", s)
}

// ParseType parses an RR type by mnemonic (A, aaaa, HTTPS) or number (TYPE65,
// 65). ok is false when s names no type, and for type 0, which is reserved
// (RFC 6895) and would otherwise go out as the zero value's A.
func ParseType(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok {
		return t, t != 0
	}
	u = strings.TrimPrefix(u, "TYPE")
	n, err := strconv.ParseUint(u, 10, 16)
	if err != nil || u == "" || u[0] == '+' {
		return 0, false
	}
	return uint16(n), n != 0
}

// ParseClass parses a class by mnemonic (IN, CH, HS, ANY) or number
// (CLASS3, 3).
func ParseClass(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	if c, ok := dns.StringToClass[u]; ok {
		return c, true
	}
	if strings.HasPrefix(u, "CLASS") {
		n, err := strconv.ParseUint(u[5:], 10, 16)
		return uint16(n), err == nil
	}
	return 0, false
}

// TypeString names an RR type as dig does (A, TYPE65534).
func TypeString(t uint16) string { return dns.Type(t).String() }

// ClassString names a class as dig does (IN, CH, ANY, CLASS7); the wire
// library names class 255 CLASS255.
func ClassString(c uint16) string {
	if c == dns.ClassANY {
		return "ANY"
	}
	return dns.Class(c).String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
