// Package dnssec validates the chain of trust from a trust anchor down to a
// domain's records, as a validating resolver (or delv) does, and says why
// when it breaks: secure, insecure (and at which delegation the chain
// stops), bogus (and why) or indeterminate.
package dnssec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// rootAnchors are the DS records of the root zone's key-signing keys
// (KSK-2017, tag 20326, and KSK-2024, tag 38696), as IANA publishes them.
const rootAnchors = `. 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. 172800 IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16
`

// RootAnchors returns the shipped root trust anchors (DS records).
func RootAnchors() []dns.RR {
	rrs, err := ParseAnchors(rootAnchors)
	if err != nil {
		panic("shipped root anchors: " + err.Error()) // the constant above is fixed
	}
	return rrs
}

// ErrBadAnchor is wrapped by every trust-anchor syntax error.
var ErrBadAnchor = errors.New("bad trust anchor")

// ParseAnchors reads trust anchors: DS or DNSKEY records in zone-file
// syntax (comments, $ORIGIN and $TTL allowed), all for one zone.
func ParseAnchors(text string) ([]dns.RR, error) {
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "trust-anchor")
	zp.SetDefaultTTL(3600)
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch r := rr.(type) {
		case *dns.DS:
			if r.Digest == "" {
				return nil, fmt.Errorf("%w: the DS for %s has no digest", ErrBadAnchor, r.Hdr.Name)
			}
		case *dns.DNSKEY:
			if r.PublicKey == "" {
				return nil, fmt.Errorf("%w: the DNSKEY for %s has no key", ErrBadAnchor, r.Hdr.Name)
			}
		default:
			return nil, fmt.Errorf("%w: %s record for %s; give DS or DNSKEY records", ErrBadAnchor, dns.TypeToString[rr.Header().Rrtype], rr.Header().Name)
		}
		if len(out) > 0 && !strings.EqualFold(out[0].Header().Name, rr.Header().Name) {
			return nil, fmt.Errorf("%w: records for %s and %s; give the anchors of one zone", ErrBadAnchor, out[0].Header().Name, rr.Header().Name)
		}
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnchor, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no DS or DNSKEY record found", ErrBadAnchor)
	}
	return out, nil
}
