package diagnose

import (
	"strings"

	"github.com/miekg/dns"
)

// internalTLDs are top-level labels that are not delegated from the public
// root: special-use names (RFC 6761, 6762, 7686, 8375, 9476), .internal
// (reserved by ICANN for private use, 2024) and labels commonly used
// inside networks that the root does not delegate.
var internalTLDs = map[string]bool{
	"test": true, "example": true, "invalid": true, "localhost": true, "local": true, "onion": true, "alt": true,
	"internal": true, "lan": true, "home": true, "corp": true, "intranet": true, "private": true, "localdomain": true,
}

// Internal reports whether name should never be sent to the public roots:
// a single label, a special-use or private top-level label, home.arpa, or
// a name at or under one of zones.
func Internal(name string, zones []string) bool {
	fq := dns.CanonicalName(name)
	labels := dns.SplitDomainName(fq)
	if len(labels) <= 1 {
		return true
	}
	if internalTLDs[labels[len(labels)-1]] || dns.IsSubDomain("home.arpa.", fq) {
		return true
	}
	for _, z := range zones {
		if z = strings.TrimSpace(z); z != "" && dns.IsSubDomain(dns.CanonicalName(z), fq) {
			return true
		}
	}
	return false
}
