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
// dig -x does.
func ReverseName(addr string) (string, error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "", fmt.Errorf("%w: -x needs an IPv4 or IPv6 address, got %q", ErrBadName, addr)
	}
	name, err := dns.ReverseAddr(ip.Unmap().String())
	if err != nil {
		return "", fmt.Errorf("reversing %s: %w", addr, err)
	}
	return name, nil
}

// ParseType parses an RR type by mnemonic (A, aaaa, HTTPS) or number (TYPE65,
// 65). ok is false when s names no type.
func ParseType(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok {
		return t, true
	}
	u = strings.TrimPrefix(u, "TYPE")
	n, err := strconv.ParseUint(u, 10, 16)
	if err != nil || u == "" || u[0] == '+' {
		return 0, false
	}
	return uint16(n), true
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

// ClassString names a class as dig does (IN, CH, CLASS7).
func ClassString(c uint16) string { return dns.Class(c).String() }

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
